"""All configuration in one place: a frozen Settings read from MK_* environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from kg.errors import KgError

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    """Every setting, its default and (in ``metadata['doc']``) what it does."""

    base_uri: str = field(
        default="https://w3id.org/missiekompas/id/",
        metadata={"env": "MK_BASE_URI", "doc": "Base of every entity and graph URI; ends with '/'."},
    )
    data_dirs: tuple[Path, ...] = field(
        default=(REPO_ROOT / "data",),
        metadata={"env": "MK_DATA_DIRS", "doc": "Folders with data files, separated by ':' (the default dataset is data/)."},
    )
    store: str = field(
        default="oxigraph",
        metadata={"env": "MK_STORE", "doc": "Store backend: 'oxigraph' (embedded, persistent), 'memory' or 'remote'."},
    )
    store_path: Path = field(
        default=REPO_ROOT / ".build" / "store",
        metadata={"env": "MK_STORE_PATH", "doc": "Folder of the embedded Oxigraph store."},
    )
    remote_query_url: str = field(
        default="",
        metadata={"env": "MK_REMOTE_QUERY_URL", "doc": "SPARQL 1.1 query URL of the remote store."},
    )
    remote_update_url: str = field(
        default="",
        metadata={"env": "MK_REMOTE_UPDATE_URL", "doc": "SPARQL 1.1 update URL of the remote store."},
    )
    remote_user: str = field(
        default="",
        metadata={"env": "MK_REMOTE_USER", "doc": "User name for HTTP basic auth on the remote store (optional)."},
    )
    remote_password: str = field(
        default="",
        metadata={"env": "MK_REMOTE_PASSWORD", "doc": "Password for HTTP basic auth on the remote store (optional)."},
    )
    remote_token: str = field(
        default="",
        metadata={"env": "MK_REMOTE_TOKEN", "doc": "Bearer token for the remote store (optional; wins over basic auth)."},
    )
    query_timeout_s: float = field(
        default=10.0,
        metadata={"env": "MK_QUERY_TIMEOUT_S", "doc": "Seconds a query may take before it is stopped."},
    )
    update_timeout_s: float = field(
        default=60.0,
        metadata={"env": "MK_UPDATE_TIMEOUT_S", "doc": "Seconds an admin's SPARQL update may take before it is stopped "
                  "(nothing of it is kept)."},
    )
    client_queries: int = field(
        default=2,
        metadata={"env": "MK_CLIENT_QUERIES", "doc": "SPARQL queries one anonymous client (IP address) may have running "
                  "at once, over all server processes; more: 429."},
    )
    max_rows: int = field(
        default=10_000,
        metadata={"env": "MK_MAX_ROWS", "doc": "Most rows (or triples) one SPARQL answer returns; the rest is cut."},
    )
    max_body_bytes: int = field(
        default=1_000_000,
        metadata={"env": "MK_MAX_BODY_BYTES", "doc": "Largest request body accepted (queries, updates, uploads); larger: 413."},
    )
    write_token: str = field(
        default="",
        metadata={"env": "MK_WRITE_TOKEN", "doc": "An admin token (see MK_ADMIN_TOKENS), kept for existing set-ups."},
    )
    admin_tokens: tuple[str, ...] = field(
        default=(),
        metadata={"env": "MK_ADMIN_TOKENS", "doc": "Bearer tokens that see internal data and may write, separated by spaces "
                  "(two at once while rotating); none: read-only."},
    )
    internal_tokens: tuple[str, ...] = field(
        default=(),
        metadata={"env": "MK_INTERNAL_TOKENS", "doc": "Bearer tokens of the Kernteam: they see internal graphs, may not write; "
                  "separated by spaces."},
    )
    outbound_allow: tuple[str, ...] = field(
        default=(),
        metadata={"env": "MK_OUTBOUND_ALLOW", "doc": "IRI prefixes SERVICE/LOAD may call, separated by spaces; empty: none."},
    )
    query_workers: int = field(
        default=2,
        metadata={"env": "MK_QUERY_WORKERS", "doc": "Query worker processes per server process (they enforce the timeout)."},
    )
    workers: int = field(
        default=2,
        metadata={"env": "MK_WORKERS", "doc": "gunicorn worker processes for `make run`."},
    )
    threads: int = field(
        default=4,
        metadata={"env": "MK_THREADS", "doc": "Threads per gunicorn worker."},
    )
    body_timeout_s: float = field(
        default=20.0,
        metadata={"env": "MK_BODY_TIMEOUT_S", "doc": "Seconds a client has to send a request body once its headers are "
                  "in; slower: 408 (the body is read before a thread is taken)."},
    )
    model: str = field(
        default=str(REPO_ROOT / ".build" / "model" / "multilingual-e5-small"),
        metadata={"env": "MK_MODEL", "doc": "Sentence-transformers model: a local folder (built by make) or any name/path."},
    )
    index_path: Path = field(
        default=REPO_ROOT / ".build" / "index",
        metadata={"env": "MK_INDEX_PATH", "doc": "Folder of the persisted search index (vectors, BM25, manifest)."},
    )
    hnsw_threshold: int = field(
        default=100_000,
        metadata={"env": "MK_HNSW_THRESHOLD", "doc": "Vector count from which FAISS uses HNSW instead of exact search."},
    )
    gap_threshold: float = field(
        default=0.8473,
        metadata={"env": "MK_GAP_THRESHOLD", "doc": "Similarity from which a text counts as addressing a question, "
                  "mission or MMIP (calibrated: python -m search calibrate)."},
    )
    overlap_threshold: float = field(
        default=0.9033,
        metadata={"env": "MK_OVERLAP_THRESHOLD", "doc": "Similarity from which two MJPs count as overlapping "
                  "(calibrated: python -m search calibrate)."},
    )
    dense_weight: float = field(
        default=1.0,
        metadata={"env": "MK_DENSE_WEIGHT", "doc": "Weight of the dense (embedding) ranking in rank fusion."},
    )
    lexical_weight: float = field(
        default=0.0,
        metadata={"env": "MK_LEXICAL_WEIGHT", "doc": "Weight of the BM25 ranking in rank fusion (0: dense only)."},
    )
    host: str = field(
        default="127.0.0.1",
        metadata={"env": "MK_HOST", "doc": "Address the server listens on."},
    )
    port: int = field(
        default=8000,
        metadata={"env": "MK_PORT", "doc": "Port the server listens on."},
    )
    trusted_proxies: int = field(
        default=0,
        metadata={"env": "MK_TRUSTED_PROXIES", "doc": "Proxies in front whose X-Forwarded-For/-Proto headers are trusted "
                  "(0: none, the headers are ignored)."},
    )


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (or a given mapping); unset variables keep defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(f.metadata["env"])
        if raw is None or raw == "":
            continue
        values[f.name] = _parse(f.name, f.metadata["env"], raw)
    return Settings(**values)  # type: ignore[arg-type]


def _parse(name: str, env_name: str, raw: str) -> object:
    try:
        if name == "data_dirs":
            return tuple(Path(p) for p in raw.split(os.pathsep) if p)
        if name in ("store_path", "index_path"):
            return Path(raw)
        if name in ("dense_weight", "lexical_weight"):
            value = float(raw)
            if value < 0:
                raise ValueError("must be 0 or more")
            return value
        if name in ("gap_threshold", "overlap_threshold"):
            value = float(raw)
            if not -1 <= value <= 1:
                raise ValueError("a cosine similarity, between -1 and 1")
            return value
        if name in ("port", "max_rows", "max_body_bytes", "query_workers", "workers", "threads", "hnsw_threshold",
                    "client_queries"):
            value = int(raw)
            if value < 1:
                raise ValueError("must be 1 or more")
            return value
        if name in ("outbound_allow", "admin_tokens", "internal_tokens"):
            return tuple(raw.split())
        if name == "trusted_proxies":
            value = int(raw)
            if value < 0:
                raise ValueError("must be 0 or more")
            return value
        if name in ("query_timeout_s", "update_timeout_s"):
            value = float(raw)
            if value <= 0:
                raise ValueError("must be more than 0")
            return value
        if name == "body_timeout_s":
            value = float(raw)
            if value <= 0:
                raise ValueError("must be more than 0")
            return value
    except ValueError as exc:
        raise KgError(f"{env_name}={raw!r} is not valid: {exc}") from exc
    if name == "store" and raw not in ("oxigraph", "memory", "remote"):
        raise KgError(f"{env_name}={raw!r}: choose 'oxigraph', 'memory' or 'remote'")
    if name == "base_uri" and not (raw.startswith(("http://", "https://")) and raw.endswith(("/", "#"))):
        raise KgError(f"{env_name}={raw!r}: must be an http(s) URI ending in '/' or '#'")
    return raw
