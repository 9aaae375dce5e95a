"""The first answer: with MK_PRELOAD the gunicorn master loads search's model before it forks the
workers and each worker opens its indexes before it takes requests, so nothing is left to load at
the first match; forked workers answer matches (torch's thread pool does not hang them); the
command line imports no model library until a command needs one. No test here times anything: the
speed is bench/bench_cold_start.py's."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from config import REPO_ROOT, Settings
from kg.access import AUDIENCES
from kg.build import build
from kg.store import Store
from tests.conftest import BASE, DATA, start_server, stop_server
from tests.support import PROPOSAL_NL
from web.app import create_app
from web.server_hooks import worker_threads

DEADLINE_S = 180  # a loaded two-core machine: generous, it only bounds a failure


def test_a_preloaded_app_has_search_open_before_its_first_request(search_settings: Settings, default_store: Store,
                                                                 matcher: object, public_matcher: object) -> None:
    """What the master (preload_search) and each worker (open_search) do before the first request;
    the match then uses the matcher opened ahead."""
    from search.embedder import shared_embedder

    app = create_app(replace(search_settings, internal_tokens=("kernteam-token",)), store=default_store)
    services = app.extensions["missiekompas"]
    assert services.open_audiences == ()
    assert services.preload_search() is True
    assert shared_embedder(search_settings.model).is_loaded
    assert set(services.open_search()) == set(AUDIENCES)
    assert set(services.open_audiences) == set(AUDIENCES)
    opened = {audience: services.matcher(audience) for audience in AUDIENCES}
    assert opened["public"].embedder is opened["internal"].embedder  # one model for both audiences

    answer = app.test_client().post("/api/match", json={"text": PROPOSAL_NL, "top": 3})
    assert answer.status_code == 200, answer.text[:300]
    assert answer.get_json()["questions"]
    assert {audience: services.matcher(audience) for audience in AUDIENCES} == opened


def test_without_a_token_only_the_public_search_is_opened_ahead(search_settings: Settings, default_store: Store,
                                                              public_matcher: object) -> None:
    """No token is configured: no request can reach the internal index, so no worker holds it."""
    services = create_app(search_settings, store=default_store).extensions["missiekompas"]
    assert services.open_search() == ("public",)


def test_a_stale_index_is_left_to_the_first_search(search_settings: Settings, default_store: Store,
                                                   tmp_path: Path) -> None:
    """Opening ahead never builds an index (the master would take a worker that long silent for hung)."""
    settings = replace(search_settings, index_path=tmp_path / "index")
    services = create_app(settings, store=default_store).extensions["missiekompas"]
    assert services.open_search() == ()
    assert services.open_audiences == ()
    assert not (tmp_path / "index").exists()


def test_an_app_without_search_preloads_nothing(default_store: Store) -> None:
    services = create_app(Settings(store="memory"), store=default_store, matchers={}).extensions["missiekompas"]
    assert services.preload_search() is False
    assert services.open_search() == ()


def test_a_missing_model_leaves_the_server_up(default_store: Store, tmp_path: Path) -> None:
    """No model: preloading says why and returns; each search then answers 503, as without preloading."""
    settings = Settings(store="memory", model=str(tmp_path / "no-model"), index_path=tmp_path / "index")
    app = create_app(settings, store=default_store)
    assert app.extensions["missiekompas"].preload_search() is False
    assert app.test_client().post("/api/match", json={"text": PROPOSAL_NL}).status_code == 503


def test_each_worker_gets_its_share_of_the_cores() -> None:
    cores = len(os.sched_getaffinity(0))
    assert worker_threads(1) == cores
    assert worker_threads(cores) == 1
    assert worker_threads(4 * cores) == 1


@pytest.fixture(scope="module")
def preloading_server(tmp_path_factory: pytest.TempPathFactory, search_settings: Settings, matcher: object,
                      public_matcher: object) -> Iterator[tuple[str, Path]]:
    """gunicorn as `make run` starts it, with MK_PRELOAD and two workers forked from the master, on
    the default data with the session's model and indexes (built by the matcher fixtures)."""
    from kg.store import OxigraphStore

    folder = tmp_path_factory.mktemp("preloading-server")
    build((DATA,), BASE, OxigraphStore(folder / "store", create=True))
    log = folder / "server.log"
    proc, url = start_server(folder / "store", log, MK_PRELOAD="1", MK_WORKERS="2", MK_MODEL=str(search_settings.model),
                             MK_INDEX_PATH=str(search_settings.index_path))  # with start_server's write token: both audiences
    try:
        yield url, log
    finally:
        stop_server(proc)


def _log_lines(log: Path, fragment: str, count: int) -> list[str]:
    """The log's lines holding `fragment`, once there are `count` of them (or the deadline passed)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        found = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if fragment in line]
        if len(found) >= count or time.monotonic() > deadline:
            return found


@pytest.mark.slow
def test_the_forked_workers_open_search_before_they_serve_and_answer_matches(
        preloading_server: tuple[str, Path]) -> None:
    url, log = preloading_server
    ready = _log_lines(log, "search of", 2)
    assert len(ready) == 2, log.read_text()[-3000:]
    assert all("public" in line and "internal" in line for line in ready)
    text = log.read_text(encoding="utf-8")
    assert "search model loaded" in text
    assert text.index("search model loaded") < text.index("serving on http://127.0.0.1:")

    answers: list[int | str] = []

    def match() -> None:  # each on its own connection, so both workers take some
        try:
            answer = requests.post(f"{url}/api/match", json={"text": PROPOSAL_NL, "top": 3},
                                   headers={"Connection": "close"}, timeout=DEADLINE_S)
            answers.append(answer.status_code)
        except requests.RequestException as exc:  # a worker hung in torch would end here
            answers.append(repr(exc))

    threads = [threading.Thread(target=match) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 6, log.read_text()[-3000:]
    assert "Traceback" not in log.read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_query_workers_still_answer_beside_a_preloaded_worker(preloading_server: tuple[str, Path]) -> None:
    """The query workers are spawned, not forked: fenced as before, without the model."""
    url, _ = preloading_server
    answer = requests.get(f"{url}/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"}, timeout=DEADLINE_S)
    assert answer.status_code == 200, answer.text[:300]
    assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 0


IMPORTED_BY_HELP = """
import contextlib, io, sys
import search.cli
with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):
    search.cli.main(["--help"])
print(sorted(m for m in ("torch", "sentence_transformers", "transformers", "spacy") if m in sys.modules))
"""


def test_the_command_line_imports_no_model_library_before_a_command_needs_it() -> None:
    result = subprocess.run([sys.executable, "-c", IMPORTED_BY_HELP], cwd=REPO_ROOT, capture_output=True, text=True,
                            timeout=DEADLINE_S, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"
