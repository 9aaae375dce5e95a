"""The changes between two editions as a reader reads them: every changed field named in words, its values
with the names of the entities they refer to and euro amounts, in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from kg.editions import EditionDiff, ProgrammeChange
from ontology import MK
from web.dashboard_view import language_of, name_of
from web.i18n import format_number, message

TAGGED = re.compile(r"^(.*)@([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)$", re.S)  # a text as kg.editions shows it: text@lang


@dataclass(frozen=True)
class Shown:
    """One value as a reader sees it: text, and the IRI to link it to where it names an entity."""

    text: str
    iri: str | None = None
    lang: str = ""  # the text's language, where the data says


@dataclass(frozen=True)
class FieldRow:
    name: str  # the field in words
    before: tuple[Shown, ...]
    after: tuple[Shown, ...]


@dataclass(frozen=True)
class ChangedProgramme:
    programme: ProgrammeChange
    rows: tuple[FieldRow, ...]


def changed_programmes(diff: EditionDiff, names: Mapping[str, Mapping[str, str]],
                       lang: str) -> tuple[ChangedProgramme, ...]:
    """Every changed MJP with its changed fields named in words and their values shown in `lang`."""
    return tuple(ChangedProgramme(c, tuple(FieldRow(field_name(f.field, lang), show_values(f.field, f.before, names, lang),
                                                    show_values(f.field, f.after, names, lang))
                                           for f in c.changes))
                 for c in diff.changed)


def field_name(field: str, lang: str) -> str:
    return message(f"dashboard.field.{field}", lang, default=field.replace("_", " "))


def show_values(field: str, values: tuple[str, ...], names: Mapping[str, Mapping[str, str]],
                lang: str) -> tuple[Shown, ...]:
    """The values of one field; of texts in several languages, those in `lang` where there are any."""
    tagged = [TAGGED.match(v) for v in values]
    if any(m and m.group(2) == lang for m in tagged):
        values = tuple(v for v, m in zip(values, tagged, strict=True) if not m or m.group(2) == lang)
    return tuple(show_value(field, v, names, lang) for v in values)


def show_value(field: str, value: str, names: Mapping[str, Mapping[str, str]], lang: str) -> Shown:
    if value.startswith(str(MK)):  # a term of the vocabulary, such as a confidence level
        term = value.removeprefix(str(MK))
        return Shown(message(f"dashboard.term.{term}", lang, default=term))
    if value.startswith(("http://", "https://")):
        return Shown(name_of(names, value, lang), value, language_of(names.get(value, {}), lang))
    if field.endswith("_eur"):
        return Shown(euro(value, lang))
    if value in ("True", "False"):
        return Shown(message("dashboard.yes" if value == "True" else "dashboard.no", lang))
    tagged = TAGGED.match(value)
    return Shown(tagged.group(1), lang=tagged.group(2)) if tagged else Shown(value)


def euro(value: object, lang: str) -> str:
    """An amount in euro as `lang` writes it (€ 6.000.000 or €6,000,000); cents only where there are any."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    digits = 0 if amount == amount.to_integral_value() else 2
    return message("dashboard.euro", lang, amount=format_number(float(amount), digits, lang))
