"""Shared fixtures: settings -> store -> built graph, the tiny fixture dataset, an oxigraph server."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from kg.build import build
from kg.settings import REPO_ROOT, Settings
from kg.store import MemoryStore, Store

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


@pytest.fixture(scope="session")
def default_store() -> Store:
    """The shipped default dataset, built once into memory."""
    store = MemoryStore()
    build(Settings(store="memory"), store)
    return store


@pytest.fixture
def tiny_store(settings: Settings) -> Store:
    store = MemoryStore()
    build(replace(settings, store="memory"), store)
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
    location = tmp_path_factory.mktemp("oxigraph-serve")
    proc = subprocess.Popen(
        [str(binary), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{url}/query", params={"query": "ASK {}"}, timeout=1)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("oxigraph serve did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
