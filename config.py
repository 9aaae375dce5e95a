"""All configuration in one place: a frozen Settings read from MK_* environment variables.

Each field says, where it is declared, its environment variable, how a value is read (a parser that
raises ValueError with the reason) and what it does; load_settings reads them all in one loop.

Only the entry points read it (the `python -m kg` and `python -m search` command lines, and web/);
they hand plain values to kg and search. It imports nothing of the project (`make lint` checks both)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent
STORES = ("oxigraph", "memory", "remote", "shared")


class SettingsError(ValueError):
    """An MK_* variable has a value its setting cannot read; the message names it and says why."""


def number(kind: Callable[[str], float], minimum: float, *, above: bool = False) -> Callable[[str], Any]:
    """A parser of an int or float that is at least `minimum` (more than it, with `above`)."""
    def parse(raw: str) -> float:
        value = kind(raw)
        if value < minimum or (above and value == minimum):
            raise ValueError(f"must be more than {minimum:g}" if above else f"must be {minimum:g} or more")
        return value

    return parse


positive_int, non_negative_int = number(int, 1), number(int, 0)
positive_float, non_negative_float = number(float, 0, above=True), number(float, 0)


def cosine(raw: str) -> float:
    value = float(raw)
    if not -1 <= value <= 1:
        raise ValueError("a cosine similarity, between -1 and 1")
    return value


def flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("1", "0", "true", "false", "yes", "no", "on", "off"):
        raise ValueError("use 1 or 0 (true/false, yes/no, on/off)")
    return value in ("1", "true", "yes", "on")


def words(raw: str) -> tuple[str, ...]:
    return tuple(raw.split())


def path_list(raw: str) -> tuple[Path, ...]:
    return tuple(Path(p) for p in raw.split(os.pathsep) if p)


def store_kind(raw: str) -> str:
    if raw not in STORES:
        raise ValueError("choose 'oxigraph', 'memory', 'remote' or 'shared'")
    return raw


def http_base(raw: str) -> str:
    if not (raw.startswith(("http://", "https://")) and raw.endswith(("/", "#"))):
        raise ValueError("must be an http(s) URI ending in '/' or '#'")
    return raw


def server_pair(raw: str) -> tuple[str, ...]:
    """Two http(s) base URLs separated by a space: the SPARQL servers of slot 0 and slot 1."""
    urls = tuple(raw.split())
    if len(urls) != 2 or not all(u.startswith(("http://", "https://")) for u in urls):
        raise ValueError("two http(s) base URLs separated by a space (slot 0 and slot 1)")
    return urls


def setting(default: Any, env: str, parse: Callable[[str], Any], doc: str) -> Any:  # noqa: ANN401 - a field's value
    """A Settings field: its default, its variable, its parser and its one-line doc."""
    return field(default=default, metadata={"env": env, "parse": parse, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Every setting, its default and (in ``metadata['doc']``) what it does."""

    def journal(self) -> Path:
        """Where admin writes are journaled: MK_JOURNAL_PATH, or beside the store."""
        return self.journal_path or self.store_path.with_name(f"{self.store_path.name}.journal.jsonl")

    base_uri: str = setting("https://w3id.org/missiekompas/id/", "MK_BASE_URI", http_base,
            "Base of every entity and graph URI; ends with '/'.")
    data_dirs: tuple[Path, ...] = setting((REPO_ROOT / "data",), "MK_DATA_DIRS", path_list,
            "Folders with data files, separated by ':' (the default dataset is data/).")
    store: str = setting("oxigraph", "MK_STORE", store_kind,
            "Store backend: 'oxigraph' (embedded, persistent), 'memory', 'remote' or 'shared' (several "
            "replicas over shared SPARQL servers: docs/deploy.md).")
    store_path: Path = setting(REPO_ROOT / ".build" / "store", "MK_STORE_PATH", Path,
            "Folder of the embedded Oxigraph store.")
    journal_path: Path | None = setting(None, "MK_JOURNAL_PATH", Path,
            "File where admin writes are journaled, so a rebuild replays them (default: the store path "
            "plus '.journal.jsonl'; `make clean` keeps it).")
    keep_versions: int = setting(10, "MK_KEEP_VERSIONS", number(int, 2),
            "Store versions kept for `python -m kg rollback` (at least 2; older ones are pruned after "
            "each write).")
    remote_query_url: str = setting("", "MK_REMOTE_QUERY_URL", str, "SPARQL 1.1 query URL of the remote store.")
    remote_update_url: str = setting("", "MK_REMOTE_UPDATE_URL", str, "SPARQL 1.1 update URL of the remote store.")
    remote_user: str = setting("", "MK_REMOTE_USER", str,
            "User name for HTTP basic auth on the remote store (optional).")
    remote_password: str = setting("", "MK_REMOTE_PASSWORD", str,
            "Password for HTTP basic auth on the remote store (optional).")
    remote_token: str = setting("", "MK_REMOTE_TOKEN", str,
            "Bearer token for the remote store (optional; wins over basic auth).")
    shared_path: Path = setting(REPO_ROOT / ".build" / "shared", "MK_SHARED_PATH", Path,
            "MK_STORE=shared: the folder every replica and publisher shares (the live version's pointer, "
            "the versions as written, the write lock, the journal).")
    shared_public_urls: tuple[str, ...] = setting((), "MK_SHARED_PUBLIC_URLS", server_pair,
            "MK_STORE=shared: the two SPARQL servers (slot 0 and slot 1) that hold the public view: base "
            "URLs of Oxigraph servers (/query, /update) or URLs ending in /sparql (Virtuoso).")
    shared_internal_urls: tuple[str, ...] = setting((), "MK_SHARED_INTERNAL_URLS", server_pair,
            "MK_STORE=shared: the same for the internal view; unset: this replica serves the public only and "
            "cannot publish.")
    shared_grace_s: float = setting(15.0, "MK_SHARED_GRACE_S", non_negative_float,
            "MK_STORE=shared: seconds a slot that went out of service stays untouched, for requests still "
            "reading it, before a publish may fill it again.")
    query_timeout_s: float = setting(10.0, "MK_QUERY_TIMEOUT_S", positive_float,
            "Seconds a query may take before it is stopped.")
    update_timeout_s: float = setting(60.0, "MK_UPDATE_TIMEOUT_S", positive_float,
            "Seconds an admin's SPARQL update may take before it is stopped (nothing of it is kept).")
    client_queries: int = setting(2, "MK_CLIENT_QUERIES", positive_int,
            "SPARQL queries one anonymous client (IP address) may have running at once, over all server "
            "processes; more: 429.")
    max_rows: int = setting(10_000, "MK_MAX_ROWS", positive_int,
            "Most rows (or triples) one SPARQL answer returns; the rest is cut.")
    max_body_bytes: int = setting(1_000_000, "MK_MAX_BODY_BYTES", positive_int,
            "Largest request body accepted (queries, updates, uploads); larger: 413.")
    write_token: str = setting("", "MK_WRITE_TOKEN", str,
            "An admin token (see MK_ADMIN_TOKENS), kept for existing set-ups.")
    admin_tokens: tuple[str, ...] = setting((), "MK_ADMIN_TOKENS", words,
            "Bearer tokens that see internal data and may write, separated by spaces (two at once while "
            "rotating), each optionally named NAME:TOKEN (the write history shows the name, never the "
            "token); none: read-only.")
    internal_tokens: tuple[str, ...] = setting((), "MK_INTERNAL_TOKENS", words,
            "Bearer tokens of the Kernteam: they see internal graphs, may not write; separated by "
            "spaces.")
    outbound_allow: tuple[str, ...] = setting((), "MK_OUTBOUND_ALLOW", words,
            "IRI prefixes SERVICE/LOAD may call, separated by spaces; empty: none.")
    query_workers: int = setting(2, "MK_QUERY_WORKERS", positive_int,
            "Query worker processes per server process (they enforce the timeout).")
    memory_quads: int = setting(250_000, "MK_MEMORY_QUADS", non_negative_int,
            "A store version of up to this many quads is queried from an in-memory copy in each query "
            "worker (about 200 bytes per quad each; faster); larger ones from disk; 0: always from disk.")
    workers: int = setting(2, "MK_WORKERS", positive_int, "gunicorn worker processes for `make run`.")
    threads: int = setting(4, "MK_THREADS", positive_int, "Threads per gunicorn worker.")
    preload: bool = setting(True, "MK_PRELOAD", flag,
            "1: `make run` loads the search model in the gunicorn master, before it starts the workers "
            "(they share one copy), and each worker opens its search indexes before it takes requests, "
            "so the first match is as fast as the next; 0: each worker loads them at its first search.")
    body_timeout_s: float = setting(20.0, "MK_BODY_TIMEOUT_S", positive_float,
            "Seconds a client has to send a request body once its headers are in; slower: 408 (the body "
            "is read before a thread is taken).")
    model: str = setting(str(REPO_ROOT / ".build" / "model" / "multilingual-e5-small"), "MK_MODEL", str,
            "Sentence-transformers model: a local folder (built by make) or any name/path.")
    index_path: Path = setting(REPO_ROOT / ".build" / "index", "MK_INDEX_PATH", Path,
            "Folder of the persisted search index (vectors, BM25, manifest).")
    hnsw_threshold: int = setting(100_000, "MK_HNSW_THRESHOLD", positive_int,
            "Vector count from which FAISS uses HNSW instead of exact search.")
    gap_threshold: float = setting(0.8473, "MK_GAP_THRESHOLD", cosine,
            "Similarity from which a text counts as addressing a question, mission or MMIP (calibrated: "
            "python -m search calibrate).")
    overlap_threshold: float = setting(0.9033, "MK_OVERLAP_THRESHOLD", cosine,
            "Similarity from which two consortia count as overlapping (calibrated: python -m search "
            "calibrate).")
    dense_weight: float = setting(1.0, "MK_DENSE_WEIGHT", non_negative_float,
            "Weight of the dense (embedding) ranking in rank fusion.")
    lexical_weight: float = setting(0.1, "MK_LEXICAL_WEIGHT", non_negative_float,
            "Weight of the BM25 ranking in rank fusion (0: dense only; chosen on the tuning proposals by "
            "bench/eval_search.py).")
    hubness_weight: float = setting(1.0, "MK_HUBNESS_WEIGHT", non_negative_float,
            "How much of each record's hubness penalty (its mean similarity to typical proposals) the dense "
            "ranking subtracts, so broad records stop topping every answer (0: plain cosines; chosen on the "
            "tuning proposals by bench/eval_search.py; the strength thresholds are calibrated for this "
            "weight, so recalibrate them when changing it).")
    strong_threshold: float = setting(0.045, "MK_STRONG_THRESHOLD", cosine,
            "Hubness-corrected similarity from which a hit is labelled strong; the best hit of a section is "
            "strong from MK_FAIR_THRESHOLD (calibrated on the tuning proposals by bench/eval_search.py).")
    fair_threshold: float = setting(0.03, "MK_FAIR_THRESHOLD", cosine,
            "Hubness-corrected similarity from which a hit is labelled fair (below: weak; calibrated on the "
            "tuning proposals by bench/eval_search.py).")
    host: str = setting("127.0.0.1", "MK_HOST", str, "Address the server listens on.")
    port: int = setting(8000, "MK_PORT", positive_int, "Port the server listens on.")
    trusted_proxies: int = setting(0, "MK_TRUSTED_PROXIES", non_negative_int,
            "Proxies in front whose X-Forwarded-For/-Proto headers are trusted (0: none, the headers "
            "are ignored).")


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment (or a given mapping); unset variables keep defaults."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        name, raw = f.metadata["env"], env.get(f.metadata["env"])
        if raw is None or raw == "":
            continue
        try:
            values[f.name] = f.metadata["parse"](raw)
        except ValueError as exc:
            raise SettingsError(f"{name}={raw!r} is not valid: {exc}") from exc
    return Settings(**values)  # type: ignore[arg-type]
