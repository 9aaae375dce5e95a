"""The search corpus: every entity with text in the graph becomes one or more documents."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from kg.queries import named_query
from kg.store import Store
from ontology import MK
from search.text import chunk

KINDS = {  # class -> the kind name used in results and filters
    str(MK.KnowledgeQuestion): "question",
    str(MK.Programme): "programme",
    str(MK.Project): "project",
    str(MK.MMIP): "mmip",
    str(MK.Mission): "mission",
    str(MK.TechnologyCluster): "cluster",
    str(MK.KeyTechnology): "technology",
    str(MK.KEMCategory): "kem",
    str(MK.Theme): "theme",
}
SKOS = "http://www.w3.org/2004/02/skos/core#"
LABEL, ALT = SKOS + "prefLabel", SKOS + "altLabel"


@dataclass(frozen=True)
class Entity:
    """One searchable entity: labels per language, its full text, facets for filtering."""

    iri: str
    kind: str
    labels: dict[str, str]
    text: str
    is_sample: bool
    facets: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.labels.get("nl") or self.labels.get("en") or next(iter(self.labels.values()), self.iri)


@dataclass(frozen=True)
class Document:
    """A chunk of an entity's text: what the vector and lexical indexes hold, by position."""

    entity: str
    kind: str
    chunk: int
    text: str


def load_entities(store: Store) -> list[Entity]:
    """Every searchable entity with its texts and facets, in a stable order."""
    parts: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
    kinds: dict[str, str] = {}
    samples: set[str] = set()
    for row in store.select(named_query("search_texts")):
        iri = str(row["entity"])
        kinds.setdefault(iri, KINDS[str(row["class"])])
        parts[iri][str(row["property"])].append((str(row.get("lang") or ""), str(row["text"])))
        if row.get("sample"):
            samples.add(iri)
    facets: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for row in store.select(named_query("search_facets")):
        facets[str(row["entity"])][str(row["facet"])].add(str(row["value"]))
    return [
        Entity(iri, kinds[iri], {lang: text for lang, text in parts[iri][LABEL]}, _full_text(parts[iri]),
               iri in samples, {k: tuple(sorted(v)) for k, v in facets[iri].items()})
        for iri in sorted(parts)
    ]


def _full_text(parts: dict[str, list[tuple[str, str]]]) -> str:
    """Labels first (both languages), then alternative labels, then descriptions and notes."""
    labels = [t for _, t in sorted(parts.get(LABEL, []))]
    alt = [t for _, t in sorted(parts.get(ALT, []))]
    rest = [t for p, values in sorted(parts.items()) if p not in (LABEL, ALT) for _, t in sorted(values)]
    head = ". ".join(dict.fromkeys(labels))
    if alt:
        head += " (" + ", ".join(dict.fromkeys(alt)) + ")"
    return ". ".join([head, *rest]).strip()


def to_documents(entities: list[Entity], max_words: int = 200) -> list[Document]:
    """Long texts are chunked, never truncated: an entity may become several documents."""
    return [
        Document(e.iri, e.kind, i, piece)
        for e in entities
        for i, piece in enumerate(chunk(e.text, max_words=max_words))
    ]


def corpus_hash(documents: list[Document], model: str, entities: Sequence[Entity] = ()) -> str:
    """Changes whenever a document, the model or what the index keeps of an entity besides its text
    (kind, labels, sample mark, facets) changes: the index is rebuilt then (texts it already embedded
    are not embedded again), so a record turned sample or relinked never lingers in a stale index."""
    digest = hashlib.sha256(model.encode())
    for doc in documents:
        digest.update(json.dumps(asdict(doc), sort_keys=True, ensure_ascii=False).encode())
    for entity in entities:
        digest.update(json.dumps({**asdict(entity), "text": None}, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()
