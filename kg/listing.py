"""Browse lists: every entity of one kind with its facets (filterable values) and counts, one query per list,
narrowed by facet choices and a text, sorted by any column."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from kg.errors import KgError
from kg.queries import named_query
from kg.store import GraphView
from ontology import MK


class UnknownList(KgError):
    """No browse list of that name."""


class UnknownSort(KgError):
    """A sort key that names no column of the list."""


@dataclass(frozen=True)
class ListSpec:
    """What a list shows. Its query gives rows (entity, facet, value, text, lang): facet 'label' rows
    carry the entity's labels; any other facet names a value (an IRI or a literal) with its labels."""

    cls: str  # the class whose instances the list holds
    query: str
    filters: tuple[str, ...] = ()  # facets offered as filters, each value shown on the item
    shown: tuple[str, ...] = ()  # facets whose values are shown on the item, without a filter
    counts: tuple[str, ...] = ()  # facets shown as a number per item

    @property
    def value_columns(self) -> tuple[str, ...]:
        """The columns of facet values, in order (the sample mark shows on the name instead)."""
        return tuple(f for f in (*self.filters, *self.shown) if f != "sample")

    @property
    def columns(self) -> tuple[str, ...]:
        """Every column besides the name: facet values, then counts."""
        return (*self.value_columns, *self.counts)


LISTS: dict[str, ListSpec] = {
    "clusters": ListSpec(str(MK.TechnologyCluster), "list_clusters",
                         counts=("mjp", "programme", "project", "question", "technology")),
    "themes": ListSpec(str(MK.Theme), "list_themes", filters=("broader",), counts=("mjp", "project", "mission", "question")),
    "missions": ListSpec(str(MK.Mission), "list_missions", filters=("theme", "agenda", "generation"),
                         counts=("programme", "project", "mmip", "question")),
    "mmips": ListSpec(str(MK.MMIP), "list_mmips", filters=("mission", "agenda"), counts=("programme", "project")),
    "programmes": ListSpec(str(MK.Programme), "list_programmes", filters=("kind", "sample", "cluster", "theme"),
                           shown=("lead",), counts=("partner", "question")),
    "projects": ListSpec(str(MK.Project), "list_projects", filters=("instrument", "sample", "cluster", "theme", "mission"),
                         shown=("lead",), counts=("partner",)),
    "questions": ListSpec(str(MK.KnowledgeQuestion), "list_questions", filters=("kind", "cluster", "theme", "mission"),
                          counts=("programme", "project")),
    # lead and partner count the consortia an organisation belongs to: programmes and projects alike
    "organisations": ListSpec(str(MK.Organisation), "list_organisations", filters=("kind", "sample"),
                              counts=("lead", "partner", "funder")),
    "kems": ListSpec(str(MK.KEMCategory), "list_kems", counts=("programme",)),
}


def label_in(labels: Mapping[str, str], lang: str, fallback: str = "") -> str:
    """The label in `lang`, else the untagged one, else Dutch, else English, else any, else `fallback`."""
    for key in (lang, "", "nl", "en"):
        if labels.get(key):
            return labels[key]
    return next(iter(labels.values()), fallback)


@dataclass(frozen=True)
class Ref:
    """A facet value: an IRI (or a literal such as a kind) with its labels per language."""

    value: str
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def is_iri(self) -> bool:
        return self.value.startswith(("http://", "https://"))

    def label(self, lang: str) -> str:
        return label_in(self.labels, lang, self.value)


@dataclass(frozen=True)
class Item:
    iri: str
    labels: dict[str, str]
    is_sample: bool
    values: dict[str, tuple[Ref, ...]]
    counts: dict[str, int]

    def label(self, lang: str) -> str:
        return label_in(self.labels, lang, self.iri)

    def has_any(self, facet: str, wanted: Iterable[str]) -> bool:
        return bool({r.value for r in self.values.get(facet, ())} & set(wanted))


@dataclass(frozen=True)
class Option:
    ref: Ref
    count: int  # items with this value among those that match the other facets' choices
    is_selected: bool


@dataclass(frozen=True)
class Facet:
    name: str
    options: tuple[Option, ...]
    is_useful: bool = True  # False when no choice could narrow the list (no values, or one value every item has)


@dataclass(frozen=True)
class Listing:
    name: str
    spec: ListSpec
    total: int  # items before filtering
    items: tuple[Item, ...]
    facets: tuple[Facet, ...]
    text: str = ""  # the words the items were narrowed to
    sort: str = ""  # the column the items are sorted by, "-" in front for descending; "" is by name


def list_entities(store: GraphView, name: str, selected: Mapping[str, Iterable[str]] | None = None,
                  lang: str = "en", *, text: str = "", sort: str = "") -> Listing:
    """The list `name` (see LISTS), filtered by `selected` (facet -> values: any value within a facet,
    every facet) and by `text` (every word in a label, in any language, ignoring case and accents), sorted
    by `sort` (see sort_keys) in `lang`. Facet counts are disjunctive: a facet's options count the items
    that match the text and the choices made in the other facets. Options keep one order, by how many of
    all items have them, so a ticked option stays where it was."""
    spec = LISTS.get(name)
    if spec is None:
        raise UnknownList(f"no list named {name!r}; choose from {', '.join(LISTS)}")
    key = _sort_key(spec, sort, lang)
    chosen = {facet: set(values) for facet, values in (selected or {}).items() if facet in spec.filters and values}
    items = sorted(_items(store.select(named_query(spec.query)), spec), key=lambda i: i.label(lang).casefold())
    words = normalised(text).split()
    found = [i for i in items if _has_words(i, words)]
    shown = tuple(i for i in found if _matches(i, chosen))
    if key is not None:
        shown = tuple(sorted(shown, key=key, reverse=sort.startswith("-")))
    facets = tuple(_facet(items, found, facet, chosen, lang) for facet in spec.filters)
    return Listing(name, spec, len(items), shown, facets, " ".join(text.split()), sort if key is not None else "")


def sort_keys(name: str) -> tuple[str, ...]:
    """The columns list `name` sorts by: "name" and every column; "-" in front of one sorts descending."""
    return ("name", *LISTS[name].columns)


def normalised(text: str) -> str:
    """`text` for comparing: lower case, without accents ("Bètatechnologie" -> "betatechnologie")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _has_words(item: Item, words: list[str]) -> bool:
    if not words:
        return True
    labels = normalised(" ".join(item.labels.values()))
    return all(word in labels for word in words)


def _sort_key(spec: ListSpec, sort: str, lang: str) -> Callable[[Item], tuple[object, ...]] | None:
    """The key for `sort`, None for the default order (by name); a stable sort keeps names in order within a tie.
    Items without values in a value column come last either way (descending sorts reverse the whole key)."""
    column = sort.removeprefix("-")
    if column in ("", "name"):
        return None if not sort.startswith("-") else (lambda i: (i.label(lang).casefold(),))
    if column in spec.counts:
        return lambda i: (i.counts[column],)
    if column in spec.value_columns:
        empty_last = not sort.startswith("-")
        return lambda i: ((not i.values.get(column)) == empty_last,
                          ", ".join(r.label(lang) for r in i.values.get(column, ())).casefold())
    raise UnknownSort(f"cannot sort by {sort!r}; choose from {', '.join(('name', *spec.columns))}, "
                      "each with - in front to reverse")


def _items(rows: list[dict[str, object]], spec: ListSpec) -> list[Item]:
    labels: dict[str, dict[str, str]] = defaultdict(dict)
    values: dict[str, dict[str, dict[str, dict[str, str]]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        iri, facet = str(row["entity"]), str(row["facet"])
        if facet == "label":
            labels[iri][str(row.get("lang") or "")] = str(row["text"])
            continue
        value_labels = values[iri][facet].setdefault(str(row["value"]), {})
        if "text" in row:
            value_labels[str(row.get("lang") or "")] = str(row["text"])
    items = []
    for iri in labels.keys() | values.keys():
        refs = {facet: tuple(sorted((Ref(v, ls) for v, ls in found.items()), key=lambda r: r.label("nl").casefold()))
                for facet, found in values[iri].items()}
        is_sample = any(r.value == "sample" for r in refs.get("sample", ()))
        counts = {facet: len(refs.get(facet, ())) for facet in spec.counts}
        items.append(Item(iri, labels[iri], is_sample, refs, counts))
    return items


def _matches(item: Item, chosen: Mapping[str, set[str]], skip: str | None = None) -> bool:
    return all(item.has_any(facet, wanted) for facet, wanted in chosen.items() if facet != skip)


def _facet(items: list[Item], found: list[Item], facet: str, chosen: Mapping[str, set[str]], lang: str) -> Facet:
    """A facet's options in a fixed order (by how many of all `items` have them, then by label), each counting
    the `found` items that match the other facets' choices."""
    overall: dict[str, int] = defaultdict(int)
    refs: dict[str, Ref] = {}
    for item in items:
        for ref in item.values.get(facet, ()):
            refs.setdefault(ref.value, ref)
            overall[ref.value] += 1
    counts: dict[str, int] = defaultdict(int)
    for item in found:
        if _matches(item, chosen, skip=facet):
            for ref in item.values.get(facet, ()):
                counts[ref.value] += 1
    wanted = chosen.get(facet, set())
    options = sorted(refs.values(), key=lambda r: (-overall[r.value], r.label(lang).casefold()))
    narrows = len(options) > 1 or any(n < len(items) for n in overall.values())
    return Facet(facet, tuple(Option(r, counts[r.value], r.value in wanted) for r in options), narrows or bool(wanted))


def filter_options(store: GraphView, lang: str = "en") -> dict[str, tuple[Ref, ...]]:
    """The clusters, themes and missions a search can be restricted to (facet -> values), sorted by label."""
    found: dict[str, dict[str, dict[str, str]]] = defaultdict(lambda: defaultdict(dict))
    for row in store.select(named_query("filter_options")):
        found[str(row["facet"])][str(row["value"])][str(row.get("lang") or "")] = str(row["text"])
    return {facet: tuple(sorted((Ref(v, ls) for v, ls in values.items()), key=lambda r: r.label(lang).casefold()))
            for facet, values in found.items()}


def list_sizes(store: GraphView) -> dict[str, tuple[int, int]]:
    """Every list's number of entities and of samples among them (one query)."""
    counts = {str(r["class"]): (int(r["count"]), int(r["samples"])) for r in store.select(named_query("class_counts"))}
    return {name: counts.get(spec.cls, (0, 0)) for name, spec in LISTS.items()}
