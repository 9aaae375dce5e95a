"""Putting search together: store, model, index (rebuilt when stale), concepts."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from kg.access import INTERNAL
from kg.queries import named_query
from kg.store import GraphView, Store
from ontology import MK
from search.concepts import ConceptMatcher
from search.embedder import Embedder, set_model_threads, shared_embedder
from search.index import SearchIndex, ensure_index
from search.match import HUBNESS_WEIGHT, Matcher
from search.partners import PartnerFinder
from search.result import Funding, Member
from search.strength import StrengthThresholds

NAMED = (str(MK.Programme), str(MK.Project))  # their labels are names: capitalised words match only as written


def concept_matcher(store: GraphView) -> ConceptMatcher:
    labels: dict[str, dict[tuple[str, str], None]] = defaultdict(dict)  # a concept of two classes lists a label once
    names: set[str] = set()
    for row in store.select(named_query("concept_labels")):
        concept = str(row["concept"])
        labels[concept][str(row["label"]), str(row.get("lang") or "en")] = None
        if str(row["class"]) in NAMED:
            names.add(concept)
    return ConceptMatcher([(iri, list(found)) for iri, found in labels.items()], names=names)


def programme_members(store: GraphView) -> dict[str, tuple[Member, ...]]:
    """The lead and partners of every consortium, programme or project alike: each organisation once per
    role (its Dutch label, else its English one), the lead first, then by label."""
    labels: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    samples: set[str] = set()
    for row in store.select(named_query("consortium_members")):
        organisation = str(row["organisation"])
        labels[str(row["consortium"]), organisation, str(row["role"])][str(row.get("lang") or "")] = str(row["orgLabel"])
        if row.get("sample"):
            samples.add(organisation)
    found: dict[str, list[Member]] = defaultdict(list)
    for (consortium, organisation, role), by_lang in labels.items():
        label = by_lang.get("nl") or by_lang.get("en") or next(iter(by_lang.values()))
        found[consortium].append(Member(organisation, label, role, organisation in samples))
    return {k: tuple(sorted(v, key=lambda m: (m.role != "lead", m.label))) for k, v in found.items()}


def project_funding(store: GraphView) -> dict[str, Funding]:
    """The instrument, call and award year of every project."""
    return {str(row["project"]): Funding(_text(row.get("instrument")), _text(row.get("call")),
                                         int(row["year"]) if row.get("year") is not None else None)
            for row in store.select(named_query("project_funding"))}


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def index_folder(index_path: Path, audience: str) -> Path:
    """Each audience has its own index under `index_path`, built from its own view: an internal text
    can never come back as a public hit, nor in a public explanation."""
    return index_path / audience


def open_index(store: Store, *, model: str, index_path: Path, hnsw_threshold: int, audience: str = INTERNAL,
               force: bool = False, progress: bool = False,
               rebuild: bool = True) -> tuple[SearchIndex, Embedder, GraphView, bool]:
    """The index of `audience` over `store` (rebuilt when stale, embedded with `model`, exact search
    below `hnsw_threshold` vectors; with `rebuild` False a stale one is IndexStale), its embedder (the
    process's one for `model`: search.embedder.shared_embedder), the audience's graph view and whether
    it was rebuilt. The default audience is the Kernteam's: the CLI runs for them."""
    view = store.view(audience)
    embedder = shared_embedder(model)
    index, rebuilt = ensure_index(view, embedder, index_folder(index_path, audience),
                                  hnsw_threshold=hnsw_threshold, force=force, progress=progress, rebuild=rebuild)
    return index, embedder, view, rebuilt


def open_matcher(store: Store, *, model: str, index_path: Path, hnsw_threshold: int, dense_weight: float,
                 lexical_weight: float, audience: str = INTERNAL, progress: bool = False,
                 rebuild: bool = True, hubness_weight: float = HUBNESS_WEIGHT, strong_threshold: float | None = None,
                 fair_threshold: float | None = None) -> Matcher:
    """The matcher of `audience`: its index (open_index), fusing the dense and lexical rankings by their
    weights, the dense one corrected for hubness by `hubness_weight`, hits labelled strong and fair from
    these thresholds of the corrected similarity (search.strength; None: its defaults)."""
    defaults = StrengthThresholds()
    strength = StrengthThresholds(defaults.strong if strong_threshold is None else strong_threshold,
                                  defaults.fair if fair_threshold is None else fair_threshold)
    index, embedder, view, _ = open_index(store, model=model, index_path=index_path, hnsw_threshold=hnsw_threshold,
                                          audience=audience, progress=progress, rebuild=rebuild)
    weights = {"dense": dense_weight, "lexical": lexical_weight}
    return Matcher(index, embedder, concept_matcher(view), programme_members(view), weights,
                   funding=project_funding(view), hubness_weight=hubness_weight, strength=strength)


def open_partner_finder(store: Store, matcher: Matcher, *, base: str, audience: str = INTERNAL) -> PartnerFinder:
    """Partner suggestions for `audience` over its matcher (index, model, strength thresholds) and its view of
    `store`; organisation profiles load at the first suggestion."""
    return PartnerFinder(matcher, store.view(audience), base)


WARM_UP_TEXT = "Waterstof uit zon en wind voor de industrie. Hydrogen from sun and wind for industry."


def preload(model: str) -> Embedder:
    """Everything a search needs that does not come from the graph, loaded now: the model (the
    process's shared embedder, with one warm-up encode), spaCy's Dutch and English pipelines and
    lemma tables. The gunicorn master calls it before it forks the workers, which then share it all
    (copy-on-write); it opens no store. ModelUnavailable where the model cannot be loaded."""
    from search.text import LANGUAGES, analyse

    embedder = shared_embedder(model).load()
    embedder.encode_query(WARM_UP_TEXT)
    for lang in LANGUAGES:
        analyse(WARM_UP_TEXT, lang)
    return embedder


def set_threads(count: int) -> None:
    """The threads one torch operation and one FAISS search may use. The gunicorn master runs on one
    (an OpenMP thread pool started before a fork leaves the child hanging in its next parallel
    region); each worker sets its share of the cores after the fork (torch's; an ONNX Runtime session
    keeps the count it was made with: search.embedder.set_model_threads)."""
    import faiss

    set_model_threads(count)
    faiss.omp_set_num_threads(count)
