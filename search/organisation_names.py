"""Organisations named by a user, found forgivingly: by id, IRI, label or alternative label, ignoring case,
accents and punctuation ("tu delft", "Ørsted" as "orsted"), by abbreviation (the initials of a name: "TNO" for
"Toegepast Natuurwetenschappelijk Onderzoek") and by part of a name ("Boskalis" for "Royal Boskalis")."""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kg.errors import KgError

CLOSE_NAMES = 5  # close names an error lists
STOP_WORDS = frozenset({"van", "de", "der", "het", "en", "voor", "of", "the", "and", "for"})  # skipped by initials


class UnknownOrganisation(KgError):
    """A name that matches no organisation, or several equally well; the message lists close names."""

    def __init__(self, name: str, close: tuple[str, ...], *, ambiguous: bool = False) -> None:
        self.name, self.close, self.ambiguous = name, close, ambiguous
        listed = "; ".join(close)
        if ambiguous:
            text = f"{name!r} names more than one organisation: {listed}; give a longer name or the id"
        else:
            text = f"no organisation is called {name!r}" + (f"; close names: {listed}" if close else "")
        super().__init__(text)


@dataclass(frozen=True)
class NameEntry:
    organisation: str
    name: str  # as the graph writes it
    key: str  # normalised (normalise_name)


def normalise_name(name: str) -> str:
    """Lower case, accents and punctuation off, single spaces: "Ørsted A/S" -> "orsted a s"; letters alone
    are one abbreviation: "T.N.O." -> "tno"."""
    folded = unicodedata.normalize("NFKD", name.replace("ø", "o").replace("Ø", "O").casefold())
    plain = "".join(c for c in folded if not unicodedata.combining(c))
    words = re.sub(r"[^\w]+", " ", plain).split()
    return "".join(words) if all(len(w) == 1 for w in words) else " ".join(words)


def initials(key: str) -> str:
    """The first letters of a normalised name's words, short words like "van" left out: "tno" for the full
    name of TNO."""
    words = [w for w in key.split() if w not in STOP_WORDS]
    return "".join(w[0] for w in words) if len(words) > 1 else ""


class OrganisationNames:
    """Look-up of organisations by what users call them. `names`: organisation IRI -> its names (labels and
    alternative labels); `labels`: the one name an error shows; `base`: the base IRI, so an id ("tno") or
    organisation/ID finds its organisation."""

    def __init__(self, names: Mapping[str, Iterable[str]], labels: Mapping[str, str], base: str) -> None:
        self.base = base
        self.entries = tuple(NameEntry(iri, name, normalise_name(name)) for iri, found in names.items() for name in found)
        self.labels = {iri: labels.get(iri, iri) for iri in names}

    def resolve(self, given: Iterable[str]) -> tuple[str, ...]:
        """The organisation IRI of each name, in order, each once; UnknownOrganisation for the first name that
        finds none or several."""
        return tuple(dict.fromkeys(self.find(name) for name in given if name.strip()))

    def find(self, name: str) -> str:
        text = name.strip()
        for iri in (text, f"{self.base}organisation/{text}", f"{self.base}{text}"):
            if iri in self.labels:
                return iri
        key = normalise_name(text)
        for matches in (self._exact(key), self._initials(key), self._partial(key)):
            if len(matches) == 1:
                return next(iter(matches))
            if matches:
                raise UnknownOrganisation(name, tuple(sorted(self.labels[m] for m in matches))[:CLOSE_NAMES * 2],
                                          ambiguous=True)
        raise UnknownOrganisation(name, self.close_names(key))

    def _exact(self, key: str) -> set[str]:
        return {e.organisation for e in self.entries if e.key == key or e.organisation.rsplit("/", 1)[-1] == key}

    def _initials(self, key: str) -> set[str]:
        return {e.organisation for e in self.entries if " " not in key and len(key) > 1 and initials(e.key) == key}

    def _partial(self, key: str) -> set[str]:
        """Names that hold every word of `key` as a word, or inside a word where it is longer than three letters."""
        words = key.split()
        if not words:
            return set()
        return {e.organisation for e in self.entries if all(w in e.key.split() or (len(w) > 3 and w in e.key)
                                                            for w in words)}

    def close_names(self, key: str) -> tuple[str, ...]:
        """The names most like `key` (difflib), each organisation once, by its label."""
        by_key = {e.key: e.organisation for e in self.entries}
        close = difflib.get_close_matches(key, list(by_key), n=CLOSE_NAMES * 3, cutoff=0.5)
        return tuple(dict.fromkeys(self.labels[by_key[k]] for k in close))[:CLOSE_NAMES]
