"""Faults: a build killed with SIGKILL at any moment, or one that fails validation, leaves the graph
store and the search index as they were, and a running server answers from the old graph meanwhile.

States are compared by content (a hash of the sorted N-Quads; the index manifest and vectors byte
for byte), never by the files on disk, so these tests hold whatever folder layout the store uses."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from config import REPO_ROOT
from kg.access import AUDIENCES
from kg.build import build
from kg.store import open_store
from ontology import SHAPES_PATH
from tests.conftest import BASE, TINY, start_server, stop_server

pytestmark = pytest.mark.slow

EXTRA = 1500  # generated questions: reading, validating and writing them takes a second or two
LAST_EXTRA = f"{BASE}question/gen-q-{EXTRA - 1:05d}"
BUILD = ["build", "--quiet"]
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"

# Runs `python -m MODULE ARGS` under a PEP 578 audit hook that kills the process with SIGKILL (no
# cleanup, no `finally`) at the moment FAULT_PLAN names:
#   {"at": "open", "paths": [P], "delay": S}    S seconds after P, or a file under P, is first opened
#   {"at": "write", "paths": [P]}               when a file under P is first opened for writing
#   {"at": "rename", "paths": [P], "after": B}  at the first rename or replace that moves P (or something
#                                               under it) or moves something onto it: before it happens,
#                                               or (B true) right after it, at the next audited action
BOOTSTRAP = r"""
import json, os, runpy, signal, sys, threading
plan = json.loads(os.environ.pop("FAULT_PLAN"))
armed = []

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def touches(path):
    if isinstance(path, int):
        return False
    path = os.path.abspath(os.fsdecode(path))
    return any(path == p or path.startswith(p + os.sep) for p in plan["paths"])

def writing(mode, flags):
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR))

def hook(event, args):
    if event == "os.kill":  # die() itself
        return
    if armed:
        die()
    at = plan["at"]
    if event == "open" and at == "open" and touches(args[0]):
        plan["at"] = "timer started"
        timer = threading.Timer(plan.get("delay", 0), die)
        timer.daemon = True
        timer.start()
    elif event == "open" and at == "write" and touches(args[0]) and writing(args[1], args[2]):
        die()
    elif event == "os.rename" and at == "rename" and (touches(args[0]) or touches(args[1])):
        if not plan.get("after"):
            die()
        armed.append(True)

sys.addaudithook(hook)
sys.argv = [plan["module"], *plan["args"]]
runpy.run_module(plan["module"], run_name="__main__", alter_sys=True)
"""


def environment(**settings: str) -> dict[str, str]:
    """This process's environment without the developer's own MK_* settings, plus the given ones."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("MK_")}, **settings}


def run_killed(module: str, args: list[str], env: dict[str, str], plan: dict[str, object]) -> subprocess.CompletedProcess[bytes]:
    """`python -m module args` with a fault plan; returns once it was killed or has ended."""
    env = {**env, "FAULT_PLAN": json.dumps({**plan, "module": module, "args": args})}
    return subprocess.run([sys.executable, "-c", BOOTSTRAP], cwd=REPO_ROOT, env=env, capture_output=True,
                          timeout=180, check=False)


def run_cli(module: str, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=180, check=False)


def extra_questions(count: int, *, cluster: str = "alpha-tech") -> str:
    lines = ["type: question", "records:"]
    for i in range(count):
        lines += [f"  - id: gen-q-{i:05d}", f'    label: {{en: "Generated question {i} about storage and sensors"}}',
                  f"    clusters: [{cluster}]", "    source: https://example.org/generated", "    confidence: medium"]
    return "\n".join(lines) + "\n"


# --- the graph store ----------------------------------------------------------------------------

@dataclass(frozen=True)
class GraphState:
    sha256: str  # of the sorted N-Quads
    quads: int
    answered: int  # what a COUNT query on the freshly opened store says


def graph_state(store_path: Path) -> GraphState:
    """The store's content, and proof that it opens and answers a query."""
    store = open_store("oxigraph", store_path)
    lines = sorted(str(q) for q in store.quads())
    answered = int(store.select(COUNT)[0]["n"])
    return GraphState(hashlib.sha256("\n".join(lines).encode()).hexdigest(), len(lines), answered)


@dataclass(frozen=True)
class Graph:
    data: Path  # the tiny dataset plus a large extra file that the store does not hold yet
    store_path: Path
    before: GraphState
    env: dict[str, str]


@pytest.fixture(scope="module")
def extra_yaml() -> str:
    return extra_questions(EXTRA)


def build_store(data: Path, store_path: Path) -> None:
    build((data,), BASE, open_store("oxigraph", store_path, create=True))


@pytest.fixture
def graph(tmp_path: Path, extra_yaml: str) -> Graph:
    """A store built from the tiny dataset; then a large extra file is added to its data folder."""
    data = tmp_path / "data"
    shutil.copytree(TINY, data)
    store_path = tmp_path / "state" / "store"  # a folder of its own: every new entry there is the store's
    build_store(data, store_path)
    before = graph_state(store_path)
    (data / "extra-questions.yaml").write_text(extra_yaml, encoding="utf-8")
    return Graph(data, store_path, before, environment(MK_DATA_DIRS=str(data), MK_STORE_PATH=str(store_path)))


@pytest.fixture(scope="module")
def complete(tmp_path_factory: pytest.TempPathFactory, extra_yaml: str) -> GraphState:
    """The state of a store that a whole build of the tiny dataset plus the extra file made
    (its hash differs from run to run: the build time is in the graph)."""
    folder = tmp_path_factory.mktemp("complete")
    shutil.copytree(TINY, folder / "data")
    (folder / "data" / "extra-questions.yaml").write_text(extra_yaml, encoding="utf-8")
    build_store(folder / "data", folder / "store")
    return graph_state(folder / "store")


def assert_whole_new_graph(store_path: Path, state: GraphState, complete: GraphState) -> None:
    assert (state.quads, state.answered) == (complete.quads, complete.answered), "a half-built graph"
    assert open_store("oxigraph", store_path).ask(f"ASK {{ <{LAST_EXTRA}> ?p ?o }}")


def kill_when_a_folder_appears(proc: subprocess.Popen[bytes], parent: Path) -> bool:
    """SIGKILL the process as soon as a new folder shows up in `parent` (a store version being
    written); False when the process ended first."""
    before = {p.name for p in parent.iterdir()}
    while proc.poll() is None:
        try:
            if any(p.name not in before and p.is_dir() for p in parent.iterdir()):
                proc.kill()
                proc.wait()
                return True
        except FileNotFoundError:
            pass  # an entry vanished between listing and looking at it
        time.sleep(0.002)
    return False


@pytest.mark.parametrize(("moment", "plan"), [
    ("reading the data files", {"at": "open", "paths": ["DATA"], "delay": 0.1}),
    ("validating with SHACL", {"at": "open", "paths": [str(SHAPES_PATH)], "delay": 0.1}),
    ("after writing, before the new version goes live", {"at": "rename", "paths": ["STORE"]}),
], ids=["reading", "validating", "before-going-live"])
def test_a_killed_build_leaves_the_store_as_it_was(graph: Graph, moment: str, plan: dict[str, object]) -> None:
    where = {"DATA": str(graph.data), "STORE": str(graph.store_path)}
    plan = {**plan, "paths": [where.get(p, p) for p in plan["paths"]]}  # type: ignore[union-attr]
    done = run_killed("kg", BUILD, graph.env, plan)
    assert done.returncode == -9, f"the build was not killed {moment}: {done.stderr.decode()[-2000:]}"
    assert graph_state(graph.store_path) == graph.before


def test_a_build_killed_while_writing_leaves_the_store_as_it_was(graph: Graph, complete: GraphState) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "kg", *BUILD], cwd=REPO_ROOT, env=graph.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = kill_when_a_folder_appears(proc, graph.store_path.parent)
    state = graph_state(graph.store_path)
    if state != graph.before:
        assert_whole_new_graph(graph.store_path, state, complete)
        pytest.skip("the kill came after the new version went live (a busy machine): nothing left to check")
    assert killed


def test_a_build_killed_right_after_going_live_leaves_the_whole_new_graph(graph: Graph, complete: GraphState) -> None:
    """Killed right after its first rename of or onto the store path: the store holds the old graph
    or the whole new one, never a mix, and it opens."""
    done = run_killed("kg", BUILD, graph.env, {"at": "rename", "paths": [str(graph.store_path)], "after": True})
    assert done.returncode in (0, -9), done.stderr.decode()[-2000:]
    state = graph_state(graph.store_path)
    if state != graph.before:
        assert_whole_new_graph(graph.store_path, state, complete)


@pytest.mark.parametrize(("broken", "message"), [
    (extra_questions(3, cluster="no-such-cluster"), "clusters must be ids of existing technology clusters"),
    ("type: question\nrecords:\n  - id: [unclosed\n", "extra-questions.yaml"),
], ids=["broken-reference", "unparsable-file"])
def test_invalid_data_leaves_the_store_as_it_was(graph: Graph, broken: str, message: str) -> None:
    (graph.data / "extra-questions.yaml").write_text(broken, encoding="utf-8")
    done = run_cli("kg", BUILD, graph.env)
    assert done.returncode == 1, done.stderr
    assert message in done.stderr
    assert graph_state(graph.store_path) == graph.before


# --- admin writes --------------------------------------------------------------------------------

NOTE = f'INSERT DATA {{ GRAPH <{BASE}graph/notes> {{ <{BASE}theme/energy> <urn:note> "kept?" }} }}'
HAS_NOTE = f'ASK {{ GRAPH <{BASE}graph/notes> {{ ?s <urn:note> "kept?" }} }}'


@pytest.fixture
def written(graph: Graph) -> Graph:
    """The graph fixture without its extra file (a rebuild then gives the same data back)."""
    (graph.data / "extra-questions.yaml").unlink()
    return graph


def journal_states(graph: Graph) -> list[str]:
    """What `kg writes` says of each journaled write: replayed, abandoned..."""
    listed = run_cli("kg", ["writes"], graph.env).stdout
    return [line.split()[3] for line in listed.splitlines() if line.strip().startswith("#")]


def test_a_write_killed_before_going_live_leaves_the_store_and_is_never_replayed(written: Graph) -> None:
    """Killed between its journal line and the switch: the store keeps the last complete version; the
    next write marks the journaled one abandoned, and a rebuild does not bring it back."""
    done = run_killed("kg", ["update", "--sparql", NOTE], written.env,
                      {"at": "rename", "paths": [str(written.store_path)]})
    assert done.returncode == -9, done.stderr.decode()[-2000:]
    assert graph_state(written.store_path) == written.before
    assert not open_store("oxigraph", written.store_path).ask(HAS_NOTE)
    assert run_cli("kg", ["update", "--sparql", NOTE.replace("kept?", "later")], written.env).returncode == 0
    assert journal_states(written) == ["abandoned", "replayed"]
    assert run_cli("kg", BUILD, written.env).returncode == 0
    assert not open_store("oxigraph", written.store_path).ask(HAS_NOTE)


def test_a_write_killed_while_filling_its_version_leaves_the_store_as_it_was(written: Graph) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "kg", "update", "--sparql", NOTE], cwd=REPO_ROOT, env=written.env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    killed = kill_when_a_folder_appears(proc, written.store_path.parent)
    if open_store("oxigraph", written.store_path).ask(HAS_NOTE):
        pytest.skip("the kill came after the write went live (a busy machine): nothing left to check")
    assert killed
    assert graph_state(written.store_path) == written.before
    assert journal_states(written) in ([], ["replayed"])  # the line may be written; the next write abandons it


def test_a_write_killed_right_after_going_live_is_kept_and_replayed(written: Graph) -> None:
    done = run_killed("kg", ["update", "--sparql", NOTE], written.env,
                      {"at": "rename", "paths": [str(written.store_path)], "after": True})
    assert done.returncode in (0, -9), done.stderr.decode()[-2000:]
    assert open_store("oxigraph", written.store_path).ask(HAS_NOTE)
    assert run_cli("kg", BUILD, written.env).returncode == 0
    assert open_store("oxigraph", written.store_path).ask(HAS_NOTE)
    assert journal_states(written) == ["replayed"]


# --- a running server while builds run ----------------------------------------------------------

class Poller:
    """Asks the server for its quad count over and over, in a thread, and keeps every answer."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.answers: list[tuple[int, int | None]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        session = requests.Session()
        while not self._stop.is_set():
            response = session.get(f"{self.url}/sparql", params={"query": COUNT}, timeout=30,
                                   headers={"Accept": "application/sparql-results+json"})
            count = int(response.json()["results"]["bindings"][0]["n"]["value"]) if response.ok else None
            self.answers.append((response.status_code, count))

    def wait_for(self, answers: int, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.answers) < answers and time.monotonic() < deadline:
            time.sleep(0.02)

    def __enter__(self) -> Poller:
        self._thread.start()
        self.wait_for(1)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=60)


@pytest.fixture
def graph_server(graph: Graph, tmp_path: Path) -> Iterator[str]:
    proc, url = start_server(graph.store_path, tmp_path / "server.log", MK_QUERY_TIMEOUT_S="20")
    yield url
    stop_server(proc)


def test_the_server_answers_from_the_old_graph_while_builds_run(graph: Graph, graph_server: str) -> None:
    with Poller(graph_server) as poller:  # a build that reads, validates and writes, then is killed
        old = poller.answers[0]
        done = run_killed("kg", BUILD, graph.env, {"at": "rename", "paths": [str(graph.store_path)]})
        poller.wait_for(len(poller.answers) + 3)
    assert done.returncode == -9
    assert old[0] == 200 and set(poller.answers) == {old}

    with Poller(graph_server) as poller:  # then a build that succeeds
        done = run_cli("kg", BUILD, graph.env)
        deadline = time.monotonic() + 10
        while poller.answers[-1] == old and time.monotonic() < deadline:
            time.sleep(0.02)
        poller.wait_for(len(poller.answers) + 3)
    assert done.returncode == 0, done.stderr
    new = poller.answers[-1]
    assert new[0] == 200 and new != old, "the server never answered from the new graph"
    switched = poller.answers.index(new)  # the old graph until the new one goes live, then only the new one
    assert set(poller.answers[:switched]) <= {old} and set(poller.answers[switched:]) == {new}


# --- the search index ---------------------------------------------------------------------------
# One index per audience, each in its own folder under MK_INDEX_PATH (search.service.index_folder).

def index_state(root: Path) -> tuple[tuple[bytes, bytes, int], ...]:
    """Every audience's manifest and document vectors byte for byte, and proof that each index loads."""
    from search.index import SearchIndex

    def one(folder: Path) -> tuple[bytes, bytes, int]:
        loaded = SearchIndex.load(folder)
        return (folder / "manifest.json").read_bytes(), (folder / "doc_vectors.npy").read_bytes(), len(loaded.documents)

    return tuple(one(root / audience) for audience in AUDIENCES)


@pytest.fixture(scope="module")
def saved_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store of the tiny dataset, and saved search indexes of its documents with random unit
    vectors (no model needed): 'old' indexes that no rebuild reproduces by chance."""
    import numpy as np

    from search.documents import load_entities, to_documents
    from search.index import SearchIndex
    from search.lexical_index import LexicalIndex
    from search.vector_index import VectorIndex

    folder = tmp_path_factory.mktemp("search-faults")
    build_store(TINY, folder / "store")
    store = open_store("oxigraph", folder / "store")
    for n, audience in enumerate(AUDIENCES):
        entities = load_entities(store.view(audience))
        documents = to_documents(entities)
        vectors = np.random.default_rng(n).normal(size=(len(documents), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        manifest = {"format": 1, "model": "random vectors of test_faults", "dimension": 384, "corpus_hash": "old",
                    "documents": len(documents), "entities": len(entities), "built_at": "2000-01-01T00:00:00Z"}
        lexical = LexicalIndex.build([d.text.lower().split() for d in documents])
        SearchIndex({e.iri: e for e in entities}, documents, vectors, VectorIndex.build(vectors), lexical,
                    manifest).save(folder / "index" / audience)
    return folder / "store", folder / "index"


@pytest.fixture
def index(saved_index: tuple[Path, Path], tmp_path: Path, model_path: Path) -> tuple[Path, dict[str, str]]:
    """A private copy of the saved indexes, under a folder of its own, and the environment to rebuild them."""
    store_path, saved = saved_index
    root = tmp_path / "search" / "index"
    shutil.copytree(saved, root, symlinks=True)  # the audience folders are links to versions
    return root, environment(MK_STORE_PATH=str(store_path), MK_INDEX_PATH=str(root), MK_MODEL=str(model_path))


def test_an_index_build_killed_while_writing_leaves_the_old_indexes(index: tuple[Path, dict[str, str]]) -> None:
    """Killed when it first writes a file under MK_INDEX_PATH (the model loaded, the texts encoded)."""
    root, env = index
    before = index_state(root)
    done = run_killed("search", ["build", "--force"], env, {"at": "write", "paths": [str(root)]})
    assert done.returncode == -9, f"the index build was not killed: {done.stderr.decode()[-2000:]}"
    assert index_state(root) == before


def test_an_index_build_killed_while_swapping_leaves_whole_indexes(index: tuple[Path, dict[str, str]]) -> None:
    """Killed right after the first rename of (or onto) an audience's index folder: every audience
    still has a whole index, the old one or a new one."""
    root, env = index
    before = index_state(root)
    plan = {"at": "rename", "paths": [str(root / audience) for audience in AUDIENCES], "after": True}
    done = run_killed("search", ["build", "--force"], env, plan)
    assert done.returncode in (0, -9), done.stderr.decode()[-2000:]
    after = index_state(root)
    assert [old == new or old[2] == new[2] for old, new in zip(before, after, strict=True)] == [True] * len(AUDIENCES)
