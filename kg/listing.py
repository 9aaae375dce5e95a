"""Browse lists: every entity of one kind with its facets (filterable values) and counts, one query per list."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kg.errors import KgError
from kg.queries import named_query
from kg.store import GraphView
from ontology import MK


class UnknownList(KgError):
    """No browse list of that name."""


@dataclass(frozen=True)
class ListSpec:
    """What a list shows. Its query gives rows (entity, facet, value, text, lang): facet 'label' rows
    carry the entity's labels; any other facet names a value (an IRI or a literal) with its labels."""

    cls: str  # the class whose instances the list holds
    query: str
    filters: tuple[str, ...] = ()  # facets offered as filters, each value shown on the item
    shown: tuple[str, ...] = ()  # facets whose values are shown on the item, without a filter
    counts: tuple[str, ...] = ()  # facets shown as a number per item


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


@dataclass(frozen=True)
class Listing:
    name: str
    spec: ListSpec
    total: int  # items before filtering
    items: tuple[Item, ...]
    facets: tuple[Facet, ...]


def list_entities(store: GraphView, name: str, selected: Mapping[str, Iterable[str]] | None = None,
                  lang: str = "en") -> Listing:
    """The list `name` (see LISTS), filtered by `selected` (facet -> values: any value within a facet,
    every facet), sorted by label in `lang`. Facet counts are disjunctive: a facet's options count the
    items that match the choices made in the other facets."""
    spec = LISTS.get(name)
    if spec is None:
        raise UnknownList(f"no list named {name!r}; choose from {', '.join(LISTS)}")
    chosen = {facet: set(values) for facet, values in (selected or {}).items() if facet in spec.filters and values}
    items = sorted(_items(store.select(named_query(spec.query)), spec), key=lambda i: i.label(lang).casefold())
    shown = tuple(i for i in items if _matches(i, chosen))
    facets = tuple(_facet(items, facet, chosen, lang) for facet in spec.filters)
    return Listing(name, spec, len(items), shown, facets)


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


def _facet(items: list[Item], facet: str, chosen: Mapping[str, set[str]], lang: str) -> Facet:
    counts: dict[str, int] = defaultdict(int)
    refs: dict[str, Ref] = {}
    for item in items:
        for ref in item.values.get(facet, ()):
            refs.setdefault(ref.value, ref)
            if _matches(item, chosen, skip=facet):
                counts[ref.value] += 1
    wanted = chosen.get(facet, set())
    options = sorted(refs.values(), key=lambda r: (-counts[r.value], r.label(lang).casefold()))
    return Facet(facet, tuple(Option(r, counts[r.value], r.value in wanted) for r in options))


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
