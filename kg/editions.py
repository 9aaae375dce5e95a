"""Editions of the programme portfolio and what changed between two of them.

A past edition is a named graph (`graph/edition/<name>`, built from `data/editions/<name>/`); the
name `current` stands for the current portfolio, the default graph. Only MJPs are compared."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field

from rdflib.namespace import ORG, SKOS

from kg.errors import KgError
from kg.schema import TYPES_BY_NAME, predicate_fields
from kg.store import GraphView
from ontology import MK

CURRENT = "current"
PREFIXES = f"PREFIX mk: <{MK}>\nPREFIX org: <{ORG}>\nPREFIX skos: <{SKOS}>\n"
FIELDS = {str(k): v for k, v in predicate_fields(TYPES_BY_NAME["programme"]).items()}
IGNORED = {"http://www.w3.org/1999/02/22-rdf-syntax-ns#type"}


class UnknownEdition(KgError):
    """No edition of that name in the graph."""


@dataclass(frozen=True)
class Edition:
    name: str
    graph: str | None  # None: the current portfolio (the default graph)
    is_sample: bool = False  # an illustrative edition (a file-level `sample: true` in its folder)


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True)
class ProgrammeSummary:
    iri: str
    label: str
    is_sample: bool


@dataclass(frozen=True)
class ProgrammeChange(ProgrammeSummary):
    changes: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Coverage:
    iri: str
    label: str
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class EditionDiff:
    before: str
    after: str
    new: tuple[ProgrammeSummary, ...]
    dropped: tuple[ProgrammeSummary, ...]
    changed: tuple[ProgrammeChange, ...]
    coverage: tuple[Coverage, ...] = field(default=())
    sample_editions: tuple[str, ...] = ()  # which of the two are illustrative editions

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["coverage"] = [{**asdict(c), "delta": c.delta} for c in self.coverage]
        return out


@dataclass(frozen=True)
class EditionChoice:
    """The editions there are (past ones by name, then `current`) and the two to compare."""

    names: tuple[str, ...]
    before: str
    after: str

    @property
    def has_past(self) -> bool:
        return len(self.names) > 1

    @property
    def is_same(self) -> bool:
        """Both are the same edition: nothing to compare."""
        return self.before == self.after


def list_editions(view: GraphView) -> list[Edition]:
    rows = view.select(PREFIXES + "SELECT ?g ?name ?sample WHERE { ?g a mk:Edition ; mk:editionName ?name "
                       "OPTIONAL { ?g mk:isSample ?sample } } ORDER BY ?name")
    return [Edition(str(r["name"]), str(r["g"]), bool(r.get("sample"))) for r in rows] + [Edition(CURRENT, None)]


def find_edition(view: GraphView, name: str) -> Edition:
    editions = list_editions(view)
    for edition in editions:
        if edition.name == name:
            return edition
    known = ", ".join(e.name for e in editions)
    raise UnknownEdition(f"no edition named {name!r}; known: {known} (past editions live in data/editions/<name>/)")


def choose_editions(view: GraphView, before: str | None, after: str | None) -> EditionChoice:
    """The asked editions; by default the latest past edition against the current portfolio. Where only
    one is asked, the other defaults to an edition that differs from it (where there is one)."""
    names = tuple(e.name for e in list_editions(view))
    past = [name for name in names if name != CURRENT]
    if before and not after:
        after = next((name for name in (CURRENT, *reversed(past)) if name != before), CURRENT)
    elif after and not before:
        before = next((name for name in (*reversed(past), CURRENT) if name != after), after)
    return EditionChoice(names, before or (past[-1] if past else CURRENT), after or CURRENT)


def _scoped(edition: Edition, pattern: str) -> str:
    return pattern if edition.graph is None else f"GRAPH <{edition.graph}> {{ {pattern} }}"


def _programmes(view: GraphView, edition: Edition) -> dict[str, dict[str, frozenset[str]]]:
    """Every MJP of the edition with its field values (references as IRIs, texts with language)."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    rows = view.select(PREFIXES + "SELECT ?p ?prop ?value WHERE { "
                       + _scoped(edition, "?p a mk:MJP ; ?prop ?value .") + " }")
    for row in rows:
        prop = str(row["prop"])
        if prop in IGNORED or prop not in FIELDS:
            continue
        found[str(row["p"])][FIELDS[prop]].add(_show(row["value"]))
    members = view.select(PREFIXES + "SELECT ?p ?org ?role WHERE { " + _scoped(
        edition, "?p a mk:MJP . ?m org:organization ?p ; org:member ?org ; org:role ?role .") + " }")
    for row in members:
        role = "lead" if str(row["role"]).endswith("LeadRole") else "partners"
        found[str(row["p"])][role].add(str(row["org"]))
    return {p: {k: frozenset(v) for k, v in fields.items()} for p, fields in found.items()}


def _show(value: object) -> str:
    language = getattr(value, "language", None)
    return f"{value}@{language}" if language else str(value)


def _labels(view: GraphView, iris: set[str]) -> dict[str, tuple[str, bool]]:
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in sorted(iris))
    rows = view.select(PREFIXES + f"SELECT ?e ?label ?lang ?sample WHERE {{ VALUES ?e {{ {values} }} "
                       "GRAPH ?g { ?e skos:prefLabel ?label } BIND(LANG(?label) AS ?lang) "
                       "OPTIONAL { GRAPH ?g2 { ?e mk:isSample ?sample } } }")
    best: dict[str, tuple[str, bool]] = {}
    for row in sorted(rows, key=lambda r: (str(r.get("lang")) != "nl", str(r["label"]))):
        best.setdefault(str(row["e"]), (str(row["label"]), bool(row.get("sample"))))
    return best


def _coverage(view: GraphView, edition: Edition) -> dict[str, int]:
    rows = view.select(PREFIXES + "SELECT ?mission (COUNT(DISTINCT ?p) AS ?n) WHERE { "
                       + _scoped(edition, "?p a mk:MJP ; mk:contributesToMission ?mission .") + " } GROUP BY ?mission")
    return {str(r["mission"]): int(r["n"]) for r in rows}


def diff_editions(view: GraphView, before_name: str, after_name: str) -> EditionDiff:
    """New, dropped and changed MJPs from `before_name` to `after_name`, and MJPs per mission in both."""
    before, after = find_edition(view, before_name), find_edition(view, after_name)
    old, new = _programmes(view, before), _programmes(view, after)
    labels = _labels(view, set(old) | set(new))
    missions = view.select(PREFIXES + "SELECT ?m WHERE { ?m a mk:Mission }")
    mission_iris = {str(r["m"]) for r in missions}
    cov_old, cov_new = _coverage(view, before), _coverage(view, after)
    mission_labels = _labels(view, mission_iris | set(cov_old) | set(cov_new))

    def summary(iri: str) -> ProgrammeSummary:
        label, sample = labels.get(iri, (iri, False))
        return ProgrammeSummary(iri, label, sample)

    changed = []
    for iri in sorted(set(old) & set(new)):
        changes = tuple(FieldChange(name, tuple(sorted(old[iri].get(name, ()))), tuple(sorted(new[iri].get(name, ()))))
                        for name in sorted(set(old[iri]) | set(new[iri]))
                        if old[iri].get(name, frozenset()) != new[iri].get(name, frozenset()))
        if changes:
            s = summary(iri)
            changed.append(ProgrammeChange(s.iri, s.label, s.is_sample, changes))
    coverage = sorted(
        (Coverage(m, mission_labels.get(m, (m, False))[0], cov_old.get(m, 0), cov_new.get(m, 0))
         for m in mission_iris | set(cov_old) | set(cov_new)),
        key=lambda c: (-abs(c.delta), c.after, c.label))
    return EditionDiff(before.name, after.name,
                       new=tuple(sorted((summary(i) for i in set(new) - set(old)), key=lambda s: s.label)),
                       dropped=tuple(sorted((summary(i) for i in set(old) - set(new)), key=lambda s: s.label)),
                       changed=tuple(changed), coverage=tuple(coverage),
                       sample_editions=tuple(e.name for e in (before, after) if e.is_sample))


def format_diff(diff: EditionDiff) -> str:
    sample = " [sample]"
    lines = [f"Edition {diff.before} -> {diff.after}: {len(diff.new)} new, {len(diff.dropped)} dropped, "
             f"{len(diff.changed)} changed MJPs"]
    if diff.sample_editions:
        lines.append(f"Sample edition: {', '.join(diff.sample_editions)} is illustrative, not a real past portfolio.")
    for title, items in (("New", diff.new), ("Dropped", diff.dropped)):
        if items:
            lines.append(f"\n{title}:")
            lines += [f"  + {s.label}{sample if s.is_sample else ''}  <{s.iri}>" if title == "New"
                      else f"  - {s.label}{sample if s.is_sample else ''}  <{s.iri}>" for s in items]
    if diff.changed:
        lines.append("\nChanged:")
        for c in diff.changed:
            lines.append(f"  ~ {c.label}{sample if c.is_sample else ''}  <{c.iri}>")
            for f in c.changes:
                lines.append(f"      {f.field}: {_short(f.before)} -> {_short(f.after)}")
    moved = [c for c in diff.coverage if c.delta]
    lines.append(f"\nMJPs per mission ({len(moved)} of {len(diff.coverage)} missions changed):")
    lines += [f"  {c.before:>3} -> {c.after:<3} {c.label}" for c in moved] or ["  no change"]
    if any(s.is_sample for s in (*diff.new, *diff.dropped, *diff.changed)):
        lines.append("\n[sample] = an illustrative record, not a real MJP.")
    return "\n".join(lines)


def _short(values: tuple[str, ...]) -> str:
    shown = [v.rsplit("/", 1)[-1] if v.startswith("http") else (v if len(v) <= 60 else v[:57] + "...") for v in values]
    return "(none)" if not shown else ", ".join(shown)
