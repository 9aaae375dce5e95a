"""The hubness correction, and how a proposal becomes one query vector.

Some records are close to almost every proposal: broad knowledge questions, programmes with a wide remit,
missions written in general terms. Ranked by plain cosine similarity they fill the top of every answer
(issue 16: three questions in the top 3 for 17 of 40 unrelated abstracts). The correction measures that
pull once, when the index is built: a document's penalty is its mean cosine similarity to its `k` nearest
reference proposals (all of them by default; with fewer it is CSLS, the cross-domain similarity local
scaling of Conneau et al. 2018). A match ranks by

    corrected = cosine(proposal, document) - weight * penalty(document)

"how much closer this record is to this proposal than to a typical proposal". It is also the score the
strength labels are calibrated on (search.strength): plain cosines of every hit sat between 0.78 and 0.88
whatever the proposal, the corrected ones spread from below 0 (noise) to about 0.08 (a clear match).

The reference proposals are those of hubness_reference.yaml, encoded as a match encodes a proposal (its
passages with the ``query: `` prompt, their mean, normalised). The weight and `k` were chosen on the tuning
part of tests/fixtures/eval/proposals.yaml (bench/eval_search.py; docs/search.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Protocol

import numpy as np
import yaml

from search.text import split_bounded_passages

REFERENCE_FILE = Path(__file__).with_name("hubness_reference.yaml")
NEAREST = 0  # reference proposals a penalty averages over: the k nearest; 0 = all of them
MAX_PASSAGES = 64
# Passages of at least a short sentence's length, encoded in small batches: less padding, so encoding
# the passages costs about as much as encoding the whole text once (bench/bench_search.py).
PASSAGE_MIN_WORDS = 30
PASSAGE_BATCH = 4


class QueryEncoder(Protocol):
    def encode_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...


def match_passages(text: str) -> list[str]:
    """The passages of a proposal that a match encodes and explains hits with."""
    return split_bounded_passages(text, min_words=PASSAGE_MIN_WORDS, max_passages=MAX_PASSAGES)


def mean_vector(passage_vectors: np.ndarray) -> np.ndarray:
    """One query vector for a proposal: the mean of its passage vectors, of length 1."""
    query = passage_vectors.mean(axis=0)
    query /= np.linalg.norm(query) or 1.0
    return query.astype(np.float32)


def proposal_vectors(encoder: QueryEncoder, texts: list[str]) -> np.ndarray:
    """The query vector of each proposal, made as a match makes it: (len(texts), dimension)."""
    return np.vstack([mean_vector(encoder.encode_queries(match_passages(t), batch_size=PASSAGE_BATCH))
                      for t in texts]) if texts else np.zeros((0, 0), dtype=np.float32)


def load_reference(path: Path = REFERENCE_FILE) -> list[str]:
    """The texts of the reference proposals."""
    return [p["text"] for p in yaml.safe_load(path.read_text(encoding="utf-8"))["proposals"]]


def reference_hash(texts: list[str], nearest: int = NEAREST) -> str:
    """Changes whenever a reference text or `nearest` changes: the penalties are computed again then."""
    digest = hashlib.sha256(f"nearest={nearest}".encode())
    for text in texts:
        digest.update(b"\0" + text.encode())
    return digest.hexdigest()


def hub_penalties(doc_vectors: np.ndarray, reference: np.ndarray, nearest: int = NEAREST) -> np.ndarray:
    """Each document's mean cosine similarity to its `nearest` most similar reference vectors (all when
    `nearest` is 0 or more than there are): one float32 per document. Zeros without reference vectors."""
    if len(doc_vectors) == 0 or len(reference) == 0:
        return np.zeros(len(doc_vectors), dtype=np.float32)
    similarities = doc_vectors @ reference.T  # documents x reference proposals
    if 0 < nearest < similarities.shape[1]:
        similarities = -np.partition(-similarities, nearest - 1, axis=1)[:, :nearest]
    return similarities.mean(axis=1).astype(np.float32)
