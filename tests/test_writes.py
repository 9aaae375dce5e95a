"""The write model of the embedded store: incremental versions that equal a full derivation, the
journal a rebuild replays, the visibility of written graphs, history and rollback (kg.delta,
kg.journal, kg.replay, kg.versions, kg.store)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.access import AUDIENCES, INTERNAL, PUBLIC, read_policy, view_quads
from kg.build import ImportWouldBeLost, build
from kg.delta import dataset_quads
from kg.errors import QueryError, StoreError
from kg.journal import Journal
from kg.replay import WritesNoLongerApply
from kg.sparql_text import written_graphs
from kg.store import OxigraphStore
from tests.conftest import BASE, TINY

MK = "https://w3id.org/missiekompas/ontology#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
NOTES, PARTNER = f"{BASE}graph/notes", f"{BASE}graph/partner-x"
THEME = f"{BASE}theme/energy"


def note(graph: str, text: str) -> str:
    return f'INSERT DATA {{ GRAPH <{graph}> {{ <{THEME}> <{SKOS}note> "{text}" }} }}'


@pytest.fixture
def store(tmp_path: Path) -> OxigraphStore:
    """The tiny dataset in an embedded store with a journal, as `python -m kg build` makes it."""
    built = OxigraphStore(tmp_path / "store", create=True, journal=Journal(tmp_path / "store.journal.jsonl"))
    build((TINY,), BASE, built)
    return built


def views_of(store: OxigraphStore) -> dict[str, set[ox.Quad]]:
    folder = store.current()
    assert folder is not None
    return {a: set(ox.Store.read_only(str(folder / a)).quads_for_pattern(None, None, None, None)) for a in AUDIENCES}


def derived_views(store: OxigraphStore) -> dict[str, set[ox.Quad]]:
    """What a build of the version's dataset would hold: the reference for the incremental views."""
    folder = store.current()
    assert folder is not None
    dataset = ox.Store()
    dataset.bulk_extend(dataset_quads(folder))
    policy = read_policy(dataset)
    return {a: set(view_quads(dataset, policy, a)) for a in AUDIENCES}


# --- which graphs an update names ------------------------------------------------------------

@pytest.mark.parametrize(("update", "graphs"), [
    (note(NOTES, "x"), {NOTES}),
    (f"PREFIX g: <{BASE}graph/> WITH g:notes DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}", {NOTES}),
    (f"DELETE {{ ?s ?p ?o }} USING <{NOTES}> USING NAMED <{PARTNER}> WHERE {{ ?s ?p ?o }}", {NOTES, PARTNER}),
    (f"ADD SILENT <{NOTES}> TO <{PARTNER}>", {NOTES, PARTNER}),
    (f"MOVE DEFAULT TO GRAPH <{NOTES}>", {NOTES}),
    ("INSERT DATA { GRAPH <notes> { <a> <b> <c> } }", {f"{BASE}notes"}),
    ("DELETE WHERE { ?s ?p ?o }", set()),
    ("DROP ALL", None),
    ("CLEAR NAMED", None),
    ("INSERT { GRAPH ?g { <urn:a> <urn:b> 1 } } WHERE { GRAPH ?g { ?s ?p ?o } }", None),
    ("PREFIX x: <urn:x:> INSERT DATA { GRAPH y:g { <urn:a> <urn:b> 1 } }", None),
])
def test_an_update_says_which_graphs_it_may_touch(update: str, graphs: set[str] | None) -> None:
    found = written_graphs(update, BASE)
    assert (set(found) if found is not None else None) == graphs


# --- incremental versions ---------------------------------------------------------------------

WRITES: list[tuple[str, str | None]] = [
    (note(NOTES, "internal note"), None),
    (note(PARTNER, "published note"), PUBLIC),
    (f'DELETE DATA {{ GRAPH <{PARTNER}> {{ <{THEME}> <{SKOS}note> "published note" }} }}', None),
    (f'DELETE {{ GRAPH <{BASE}graph/themes> {{ ?s <{SKOS}prefLabel> ?l }} }} WHERE {{ GRAPH <{BASE}graph/themes> '
     f'{{ ?s <{SKOS}prefLabel> ?l FILTER(lang(?l) = "en") }} }}', None),
    (f'INSERT DATA {{ <{THEME}> <{SKOS}note> "in the default graph" }}', None),
    (f'INSERT DATA {{ GRAPH <{PARTNER}> {{ <{THEME}> <{SKOS}note> "in the default graph" }} }}', PUBLIC),
    (f'DELETE DATA {{ <{THEME}> <{SKOS}note> "in the default graph" }}', None),
    (f"DROP GRAPH <{BASE}graph/clusters>", None),
    (f'INSERT {{ GRAPH ?g {{ <{THEME}> <{SKOS}note> "everywhere" }} }} WHERE {{ GRAPH ?g {{ <{THEME}> ?p ?o }} }}', None),
    (f'INSERT DATA {{ GRAPH <{BASE}graph/meta> {{ <{NOTES}> <{MK}visibility> "public" }} }}', None),
    (f"MOVE <{NOTES}> TO <{BASE}graph/moved>", None),
    (f"INSERT {{ GRAPH <{BASE}graph/copy> {{ ?s ?p ?o }} }} USING <{BASE}graph/missions> WHERE {{ ?s ?p ?o }}", PUBLIC),
    (f'PREFIX s: <{SKOS}> INSERT DATA {{ GRAPH <{PARTNER}> {{ <urn:a> s:note "gone again" }} }} ; '
     f'DELETE DATA {{ GRAPH <{PARTNER}> {{ <urn:a> s:note "gone again" }} }}', None),
    (f'DELETE DATA {{ GRAPH <{BASE}graph/copy> {{ <{BASE}mission/clean-power> <{SKOS}prefLabel> "Clean power"@en }} }} ;'
     f' INSERT DATA {{ GRAPH <{BASE}graph/copy> {{ <{BASE}mission/clean-power> <{SKOS}prefLabel> "Clean power"@en }} }}',
     None),
]


def test_every_write_makes_views_equal_to_a_full_derivation(store: OxigraphStore) -> None:
    """Each write carries only its difference into the views; after each, they must hold exactly what
    deriving them from the whole dataset gives (named graphs, unions, visibility, editions)."""
    for update, visibility in WRITES:
        effect = store.update(update, who="test", visibility=visibility)
        assert views_of(store) == derived_views(store), f"views differ after: {update}"
        assert effect.views_rebuilt == (written_graphs(update, None) is None)
    assert effect.changes == {}  # the last two: each takes back what it did


def test_a_write_is_internal_unless_it_asks_to_be_public(store: OxigraphStore) -> None:
    store.update(note(NOTES, "draft"))
    store.update(note(PARTNER, "for everyone"), visibility=PUBLIC)
    ask = f'ASK {{ GRAPH <%s> {{ <{THEME}> <{SKOS}note> ?n }} }}'
    assert not store.view(PUBLIC).ask(ask % NOTES)
    assert store.view(INTERNAL).ask(ask % NOTES)
    assert store.view(PUBLIC).ask(ask % PARTNER)
    assert store.view(PUBLIC).ask(f'ASK {{ <{THEME}> <{SKOS}note> "for everyone" }}')  # in the public union too


def test_a_write_does_not_change_the_visibility_of_a_graph_with_content(store: OxigraphStore) -> None:
    store.update(note(NOTES, "draft"))
    before = views_of(store)
    with pytest.raises(QueryError, match="is internal already"):
        store.update(note(NOTES, "now public?"), visibility=PUBLIC)
    with pytest.raises(QueryError, match="must name its graphs"):
        store.update("INSERT { GRAPH ?g { <urn:a> <urn:b> 1 } } WHERE { GRAPH ?g { ?s ?p ?o } }", visibility=PUBLIC)
    assert views_of(store) == before
    store.update(f"DROP GRAPH <{NOTES}>")
    store.update(note(NOTES, "published after all"), visibility=PUBLIC)  # a dropped graph starts afresh
    assert store.view(PUBLIC).ask(f"ASK {{ GRAPH <{NOTES}> {{ ?s ?p ?o }} }}")


def test_a_failed_write_changes_nothing_and_journals_nothing(store: OxigraphStore) -> None:
    before, versions = views_of(store), [v.name for v in store.history()]
    for broken in ("INSERT DATA { broken", f"DROP GRAPH <{BASE}graph/absent>"):
        with pytest.raises(QueryError):
            store.update(broken)
    assert views_of(store) == before
    assert [v.name for v in store.history()] == versions
    assert store.journal is not None and store.journal.writes() == []


# --- the journal and the rebuild ----------------------------------------------------------------

def test_a_rebuild_replays_every_write_after_the_data_files_changed(tmp_path: Path, tiny_copy: Path,
                                                                   edit_file: Callable[[Path, str, str], None]) -> None:
    store = OxigraphStore(tmp_path / "store", create=True, journal=Journal(tmp_path / "w.jsonl"))
    build((tiny_copy,), BASE, store)
    store.update(note(NOTES, "kept"), who="steward")
    store.update(note(PARTNER, "kept and public"), who="partner", visibility=PUBLIC)
    edit_file(tiny_copy / "clusters.yaml", "Alpha technology", "Alpha technologies")
    report = build((tiny_copy,), BASE, store)
    assert [w.seq for w in report.replayed] == [1, 2] and report.unchanged == ()
    assert store.view(INTERNAL).ask(f'ASK {{ GRAPH <{NOTES}> {{ ?s ?p "kept" }} }}')
    assert store.view(PUBLIC).ask(f'ASK {{ GRAPH <{PARTNER}> {{ ?s ?p "kept and public" }} }}')
    assert not store.view(PUBLIC).ask(f"ASK {{ GRAPH <{NOTES}> {{ ?s ?p ?o }} }}")
    assert store.view(PUBLIC).ask('ASK { ?c ?p "Alpha technologies"@en }')
    assert store.history()[-1].writes == (1, 2)


def test_a_write_the_data_files_now_say_is_reported_as_unchanged(store: OxigraphStore) -> None:
    store.update(f'DELETE DATA {{ GRAPH <{BASE}graph/themes> {{ <{THEME}> <{SKOS}note> "never there" }} }}')
    report = build((TINY,), BASE, store)
    assert [w.seq for w in report.unchanged] == [1]


def test_a_rebuild_refuses_writes_that_no_longer_apply_and_names_them(tmp_path: Path, tiny_copy: Path) -> None:
    store = OxigraphStore(tmp_path / "store", create=True, journal=Journal(tmp_path / "w.jsonl"))
    build((tiny_copy,), BASE, store)
    store.update(f"DROP GRAPH <{BASE}graph/mmips>", who="steward")
    before = views_of(store)
    (tiny_copy / "mmips.yaml").unlink()
    (tiny_copy / "programmes.yaml").write_text((tiny_copy / "programmes.yaml").read_text().replace(
        "mmips: [offshore-wind]", "mmips: []"), encoding="utf-8")
    with pytest.raises(WritesNoLongerApply) as refused:
        build((tiny_copy,), BASE, store)
    message = str(refused.value)
    assert "#1" in message and "steward" in message and "python -m kg writes drop 1" in message
    assert "python -m kg writes export" in message
    assert views_of(store) == before  # the store is as it was


def test_a_rebuild_refuses_to_replace_an_import_unless_asked(tmp_path: Path, store: OxigraphStore) -> None:
    dump = tmp_path / "dump.nq"
    ox.serialize(dataset_quads(store.current()), output=str(dump), format=ox.RdfFormat.N_QUADS)  # type: ignore[arg-type]
    store.replace_all(ox.parse(path=str(dump), format=ox.RdfFormat.N_QUADS), kind="import", note="dump.nq")
    with pytest.raises(ImportWouldBeLost, match="dump.nq.*--replace-import"):
        build((TINY,), BASE, store)
    assert build((TINY,), BASE, store, replace_import=True).quads > 0


def test_a_write_journaled_but_never_live_is_abandoned_not_replayed(store: OxigraphStore) -> None:
    """What a process killed between the journal line and the switch leaves (tests/test_faults.py does
    it for real): the next write marks it abandoned, and no build replays it."""
    assert store.journal is not None
    store.update(note(NOTES, "live"))
    with open(store.journal.path, "a", encoding="utf-8") as journal:
        journal.write(json.dumps({"event": "write", "seq": 2, "time": "2026-01-01T00:00:00Z", "who": "x",
                                  "sparql": note(NOTES, "never live"), "changes": {}, "version": "gone"}) + "\n")
        journal.write('{"event": "write", "seq": 3, "sparql": "cut sh')  # a line cut short by the crash
    store.update(note(NOTES, "after"))
    writes = {w.seq: w for w in store.journal.writes()}
    assert writes[2].ended == "abandon" and writes[3].is_active and writes[1].is_active
    assert [w.seq for w in build((TINY,), BASE, store).replayed] == [1, 3]
    assert not store.view(INTERNAL).ask('ASK { ?s ?p "never live" }')


# --- history and rollback -------------------------------------------------------------------------

def test_history_says_what_made_each_version_and_rollback_goes_back(store: OxigraphStore) -> None:
    built = store.current()
    store.update(note(NOTES, "one"), who="steward")
    store.update(note(PARTNER, "two"), who="partner", visibility=PUBLIC)
    history = store.history()
    assert [(v.kind, v.who) for v in history[-3:]] == [("build", ""), ("write", "steward"), ("write", "partner")]
    assert history[-1].changes == {PARTNER: (1, 0), f"{BASE}graph/meta": (1, 0)} and history[-1].writes == (1, 2)
    assert built is not None
    info = store.rollback(built.name[-8:], who="steward")
    assert (info.kind, info.note) == ("rollback", built.name)
    assert not store.view(INTERNAL).ask(f"ASK {{ GRAPH <{NOTES}> {{ ?s ?p ?o }} }}")
    assert store.journal is not None
    assert [w.ended for w in store.journal.writes()] == ["revert", "revert"]
    assert build((TINY,), BASE, store).replayed == ()  # reverted writes are not replayed
    store.rollback(history[-1].name)  # forward again: the writes come back, and are replayed again
    assert [w.ended for w in store.journal.writes()] == ["", ""]
    assert store.view(PUBLIC).ask(f"ASK {{ GRAPH <{PARTNER}> {{ ?s ?p ?o }} }}")


def test_rollback_to_an_unknown_version_says_which_exist(store: OxigraphStore) -> None:
    with pytest.raises(StoreError, match="is not a kept version.*python -m kg history"):
        store.rollback("no-such-version")


def test_readers_see_one_whole_version_while_rollbacks_run(store: OxigraphStore) -> None:
    """A reader in another process opens the store by its link; rollbacks switch it back and forth
    between two versions: every read answers from one of them, never a mix, never an error."""
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    small = store.current()
    store.update(f"INSERT DATA {{ GRAPH <{NOTES}> {{ " + " ".join(
        f'<{THEME}> <{SKOS}note> "n{i}" .' for i in range(50)) + " } }")
    large = store.current()
    assert small is not None and large is not None
    expected = {int(OxigraphStore(store.path).select(count)[0]["n"]), int(store.select(count)[0]["n"]) - 50}
    seen, errors, stop = set(), [], threading.Event()

    def read() -> None:
        reader = OxigraphStore(store.path)
        while not stop.is_set():
            try:
                seen.add(int(reader.select(count)[0]["n"]))
            except Exception as exc:  # noqa: BLE001 - any error is a failure to report
                errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        for target in (small, large) * 3:
            store.rollback(target.name)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert errors == []
    assert seen <= expected and seen
