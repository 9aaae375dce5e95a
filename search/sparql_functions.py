"""The score tables of the SPARQL extension functions (kg.functions) for one query, from one
audience's search index, the one its match page uses: fn:similarity is the cosine of a text and an
entity's best document (the text encoded as a search query), fn:textScore the BM25 score of its best
document for the text's words. The server computes them before the query runs, so a worker needs
neither the model nor the index."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from kg.endpoint import QueryRejected
from kg.functions import FN, SIMILARITY, TEXT_SCORE, FunctionContext, Scores
from kg.sparql_text import extension_calls
from search.embedder import Embedder
from search.index import SearchIndex, lexical_terms

# Encoding happens in the server, before the query's time limit starts: bounded per query instead.
MAX_TEXTS = 8  # distinct texts one query may pass the functions
MAX_TEXT_CHARS = 2_000  # about what the model reads (512 tokens); longer texts belong in /api/match
DECIMALS = 6  # float32 cosines and BM25 scores hold no more than this

DESCRIPTIONS = {  # what the service description says of each function (web.description)
    SIMILARITY: "fn:similarity(?entity, \"text\") -> xsd:double: the cosine similarity of the text (encoded as a "
                "search query) and the entity's best-matching text in the semantic search index; unbound for an "
                "entity without text.",
    TEXT_SCORE: "fn:textScore(?entity, \"words\") -> xsd:double: the BM25 keyword score of the entity's "
                "best-matching text for the words (Dutch and English word forms); unbound for an entity without text.",
}


class FunctionTextsRejected(QueryRejected):
    """A query passes the extension functions more text than the server encodes for one query."""


class FunctionScorer:
    """Scores every entity of one search index (an entity counts by its best document) for the texts a
    query passes the extension functions."""

    def __init__(self, index: SearchIndex, embedder: Embedder) -> None:
        self.index, self.embedder = index, embedder
        owners = [document.entity for document in index.documents]
        self._starts = np.array([i for i, owner in enumerate(owners) if i == 0 or owner != owners[i - 1]], dtype=np.int64)
        self._entities = [owners[i] for i in self._starts.tolist()]
        self._adjacent = len(set(self._entities)) == len(self._entities)  # each entity's documents in one run

    def context(self, sparql: str, base_iri: str | None = None) -> FunctionContext:
        """The tables for the literal texts `sparql` passes the functions (kg.sparql_text.extension_calls);
        FunctionTextsRejected where they are too many or too long."""
        texts: dict[str, set[str]] = {SIMILARITY: set(), TEXT_SCORE: set()}
        for function, text in extension_calls(sparql, FN, base_iri):
            if function in texts:
                texts[function].add(text)
        check_texts(texts)
        return FunctionContext({SIMILARITY: {text: self.similarity(text) for text in texts[SIMILARITY]},
                                TEXT_SCORE: {text: self.text_score(text) for text in texts[TEXT_SCORE]}})

    def similarity(self, text: str) -> Scores:
        """Every entity's cosine with `text`, by its best document."""
        return self._by_entity(self.index.doc_vectors @ query_vector(self.embedder, text))

    def text_score(self, text: str) -> Scores:
        """Every entity's BM25 score for the words of `text`, by its best document (0: none of them)."""
        return self._by_entity(self.index.lexical.scores(lexical_terms(text)))

    def _by_entity(self, per_document: np.ndarray) -> Scores:
        best = np.round(np.maximum.reduceat(per_document, self._starts).astype(np.float64), DECIMALS).tolist()
        if self._adjacent:  # as search.documents.to_documents writes them
            return dict(zip(self._entities, best, strict=True))
        scores: dict[str, float] = {}
        for entity, score in zip(self._entities, best, strict=True):
            scores[entity] = max(score, scores.get(entity, score))
        return scores


def check_texts(texts: dict[str, set[str]]) -> None:
    distinct = set().union(*texts.values())
    if len(distinct) > MAX_TEXTS:
        raise FunctionTextsRejected(f"the query passes {len(distinct)} different texts to fn:similarity and "
                                    f"fn:textScore; at most {MAX_TEXTS} are allowed")
    longest = max(distinct, key=len, default="")
    if len(longest) > MAX_TEXT_CHARS:
        raise FunctionTextsRejected(f"a text passed to fn:similarity or fn:textScore has {len(longest)} characters; "
                                    f"at most {MAX_TEXT_CHARS} are allowed (match a whole proposal with /api/match)")


@lru_cache(maxsize=256)
def query_vector(embedder: Embedder, text: str) -> np.ndarray:
    """`text` encoded as a search query, as the match page encodes a proposal's passages; remembered
    per model (one Embedder per model: search.embedder.shared_embedder) and text."""
    return embedder.encode_queries([text])[0]
