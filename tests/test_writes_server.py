"""Writes that survive what `make run` does: an admin writes over HTTP (SPARQL Update and the Graph
Store Protocol), a data file changes, the store is rebuilt by `python -m kg build` and the server
restarts; every write is still there, in the view it was written for, and the history names who
wrote it (the token's name, never the token)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from config import REPO_ROOT
from tests.conftest import BASE, start_server, stop_server

pytestmark = pytest.mark.slow

STEWARD, PARTNER = "steward-secret-0123456789", "partner-secret-0123456789"
TOKENS = f"steward:{STEWARD} partner-tno:{PARTNER}"
NOTES, PUBLISHED = f"{BASE}graph/notes", f"{BASE}graph/partner-tno"
SKOS = "http://www.w3.org/2004/02/skos/core#"


def environment(data: Path, store: Path) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith("MK_")},
            "MK_DATA_DIRS": str(data), "MK_STORE_PATH": str(store)}


def kg(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300, check=False)


def ask(url: str, pattern: str, token: str | None = None) -> bool:
    headers = {"Accept": "application/sparql-results+json"} | ({"Authorization": f"Bearer {token}"} if token else {})
    answer = requests.get(f"{url}/sparql", params={"query": f"ASK {{ {pattern} }}"}, headers=headers, timeout=60)
    answer.raise_for_status()
    return bool(answer.json()["boolean"])


def test_every_write_survives_a_data_change_a_rebuild_and_a_restart(tmp_path: Path, tiny_copy: Path) -> None:
    store = tmp_path / "store"
    env = environment(tiny_copy, store)
    assert kg(env, "build", "--quiet").returncode == 0
    proc, url = start_server(store, tmp_path / "first.log", MK_ADMIN_TOKENS=TOKENS, MK_WRITE_TOKEN="")
    try:
        update = requests.post(f"{url}/sparql", data={"update": f'INSERT DATA {{ GRAPH <{NOTES}> {{ <{BASE}theme/energy> '
                                                                 f'<{SKOS}note> "steward note" }} }}'},
                               headers={"Authorization": f"Bearer {STEWARD}"}, timeout=60)
        assert update.status_code == 204, update.text
        put = requests.put(f"{url}/rdf-graph-store", params={"graph": PUBLISHED, "visibility": "public"},
                           data=f'<{BASE}theme/energy> <{SKOS}note> "published by TNO" .',
                           headers={"Authorization": f"Bearer {PARTNER}", "Content-Type": "text/turtle"}, timeout=60)
        assert put.status_code == 201, put.text
        bad = requests.put(f"{url}/rdf-graph-store", params={"graph": NOTES, "visibility": "everyone"},
                           data="<urn:a> <urn:b> <urn:c> .",
                           headers={"Authorization": f"Bearer {PARTNER}", "Content-Type": "text/turtle"}, timeout=60)
        assert bad.status_code == 400 and "visibility" in bad.json()["detail"]
    finally:
        stop_server(proc)

    clusters = tiny_copy / "clusters.yaml"
    clusters.write_text(clusters.read_text(encoding="utf-8").replace("Alpha technology", "Alpha technologies"),
                        encoding="utf-8")
    rebuilt = kg(env, "build", "--quiet")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "replayed 2 journaled admin write(s)" in rebuilt.stdout

    proc, url = start_server(store, tmp_path / "second.log", MK_ADMIN_TOKENS=TOKENS, MK_WRITE_TOKEN="")
    try:
        assert ask(url, f'GRAPH <{NOTES}> {{ ?s ?p "steward note" }}', STEWARD)
        assert not ask(url, f"GRAPH <{NOTES}> {{ ?s ?p ?o }}")  # internal: not for the public
        assert ask(url, f'GRAPH <{PUBLISHED}> {{ ?s ?p "published by TNO" }}')  # published on purpose
        assert ask(url, '?c ?p "Alpha technologies"@en')  # and the data file's change is there too
    finally:
        stop_server(proc)

    history = kg(env, "history")
    assert history.returncode == 0, history.stderr
    assert "by steward" in history.stdout and "by partner-tno" in history.stdout
    assert STEWARD not in history.stdout and PARTNER not in history.stdout
    assert STEWARD not in (store.with_name("store.journal.jsonl")).read_text(encoding="utf-8")


def test_the_command_line_goes_back_and_forth_in_the_history(tmp_path: Path, tiny_copy: Path) -> None:
    env = environment(tiny_copy, tmp_path / "store")
    assert kg(env, "build", "--quiet").returncode == 0
    first = kg(env, "update", "--sparql", f'INSERT DATA {{ GRAPH <{NOTES}> {{ <urn:a> <urn:b> "one" }} }}')
    assert first.returncode == 0 and "notes +1 -0" in first.stdout
    history = kg(env, "history").stdout
    built = [line.split()[0] for line in history.splitlines() if "build from the data files" in line][0]
    back = kg(env, "rollback", built)
    assert back.returncode == 0 and f"what version {built} held" in back.stdout
    writes = kg(env, "writes").stdout
    assert "#1" in writes and "reverted" in writes
    assert kg(env, "writes", "show", "7").returncode == 1
    exported = kg(env, "writes", "export")
    assert exported.returncode == 0 and exported.stdout.strip() == ""  # nothing active: nothing to export
    assert "not a kept version" in kg(env, "rollback", "nope").stderr
