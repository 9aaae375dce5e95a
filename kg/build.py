"""Building the graph: read data files, convert, validate with SHACL, then write atomically."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, VOID, XSD
from rdflib.term import Node
from tqdm import tqdm

from kg.access import INTERNAL, PUBLIC
from kg.convert import Conversion, convert_files
from kg.errors import DataFileError, InvalidRecord, KgError, Violation
from kg.journal import Write
from kg.publish import publish_folder
from kg.readers import DataFile, find_data_files, read_data_file
from kg.replay import replay
from kg.shared import SharedStore
from kg.store import OxigraphStore, Store
from kg.uris import dataset_uri, graph_uri, is_slug, slugify
from kg.validate import validate_conversion
from kg.versions import read_manifest
from ontology import MK, ONTOLOGY_PATH

LICENCE = URIRef("https://creativecommons.org/licenses/by/4.0/")
META_GRAPH = "meta"
INTERNAL_META_GRAPH = "meta-internal"
EDITIONS_FOLDER = "editions"
ONTOLOGY_GRAPH = "ontology"


@dataclass(frozen=True)
class Compiled:
    """A valid dataset, ready to write: quads plus counts for the report."""

    quads: list[ox.Quad]
    files: int
    records: int
    graphs: tuple[str, ...]


@dataclass(frozen=True)
class BuildReport:
    files: int
    records: int
    quads: int
    graphs: tuple[str, ...]
    seconds: float
    replayed: tuple[Write, ...] = ()  # journaled admin writes applied on top of the data files
    unchanged: tuple[Write, ...] = ()  # of those, the ones that changed nothing this time
    pruned: tuple[str, ...] = ()  # store versions removed after the build (MK_KEEP_VERSIONS)


class ImportWouldBeLost(KgError):
    """The store holds an import (`kg import`), which a build from the data files would replace."""


def read_files(data_dirs: Iterable[Path], *, progress: bool = False) -> list[DataFile]:
    dirs = list(data_dirs)
    paths = find_data_files(dirs)
    files = [
        read_data_file(p, display=_display(p, dirs))
        for p in tqdm(paths, desc="reading", unit="file", disable=not progress, leave=False)
    ]
    for f in files:
        if f.sample:
            raise DataFileError(f"{f.display}: a file-level 'sample: true' marks an edition (data/editions/<name>/) as "
                                "illustrative; outside an edition, mark each record with sample: true")
    return files


def _display(path: Path, dirs: list[Path]) -> str:
    for d in dirs:
        if path.parent == d:
            return f"{d.name}/{path.name}"
    return str(path)


def name_graphs(files: list[DataFile]) -> dict[str, str]:
    """One graph name per file: its stem, made unique with the folder name when stems repeat."""
    names: dict[str, str] = {}
    taken = {META_GRAPH, INTERNAL_META_GRAPH, ONTOLOGY_GRAPH}
    for f in files:
        name = slugify(f.path.stem)
        if name in taken:
            name = f"{slugify(f.path.parent.name)}-{name}"
        base, n = name, 2
        while name in taken:
            name, n = f"{base}-{n}", n + 1
        taken.add(name)
        names[f.display] = name
    return names


def read_editions(data_dirs: Iterable[Path], *, progress: bool = False) -> dict[str, list[DataFile]]:
    """Past editions of the portfolio: the files in `<data folder>/editions/<name>/`."""
    editions: dict[str, list[DataFile]] = {}
    for folder in data_dirs:
        root = folder / EDITIONS_FOLDER
        if not root.is_dir():
            continue
        # A hidden folder is an edition still being added (kg.publish.publish_folder), or one left by a killed add.
        for edition in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            name = edition.name
            if not is_slug(name):
                raise DataFileError(f"{edition}: an edition folder's name must be a slug like 2025 or call-2024")
            if name in editions:
                raise DataFileError(f"edition {name!r} is defined in two data folders")
            editions[name] = [read_data_file(p, display=f"{folder.name}/{EDITIONS_FOLDER}/{name}/{p.name}")
                              for p in tqdm(find_data_files([edition]), desc=f"reading edition {name}",
                                            disable=not progress, leave=False)]
    return editions


def compile_dataset(files: list[DataFile], base: str, *, editions: dict[str, list[DataFile]] | None = None,
                    progress: bool = False) -> Compiled:
    """Convert and validate; raise InvalidRecord (and produce nothing) if any rule is broken."""
    names = name_graphs(files)
    steps = tqdm(total=2, desc="converting", disable=not progress, leave=False)
    conversion = convert_files(files, base, names)
    steps.update()
    steps.set_description("validating (SHACL)")
    violations = personal_data_violations(files) + (conversion.violations or validate_conversion(conversion))
    steps.update()
    steps.close()
    edition_graphs: dict[str, tuple[Graph, list[DataFile]]] = {}
    for name, edition_files in (editions or {}).items():
        graph, found = _compile_edition(files, edition_files, base)
        violations += found
        edition_graphs[name] = (graph, edition_files)
    if violations:
        raise InvalidRecord(violations)
    quads: list[ox.Quad] = []
    for name, graph in conversion.graphs.items():
        quads.extend(_to_quads(graph, graph_uri(base, name)))
    for name, (graph, _) in edition_graphs.items():
        quads.extend(_to_quads(graph, graph_uri(base, edition_graph_name(name))))
    quads.extend(_to_quads(_ontology_graph(), graph_uri(base, ONTOLOGY_GRAPH)))
    public_meta, internal_meta = _meta_graphs(files, names, conversion, edition_graphs, base)
    quads.extend(_to_quads(public_meta, graph_uri(base, META_GRAPH)))
    quads.extend(_to_quads(internal_meta, graph_uri(base, INTERNAL_META_GRAPH)))
    records = sum(len(f.records) for f in files) + sum(len(f.records) for _, fs in edition_graphs.values() for f in fs)
    return Compiled(quads, len(files), records, tuple(names.values()) + tuple(map(edition_graph_name, edition_graphs)))


def add_edition(data_dirs: Sequence[Path], base_uri: str, name: str, paths: list[Path]) -> Path:
    """Validate `paths` as edition `name` together with the current data, then copy them to
    `<first data folder>/editions/<name>/` (a folder that appears whole: kg.publish). Nothing is
    copied when anything is invalid; an existing edition of that name is refused."""
    if not is_slug(name) or name == "current":
        raise DataFileError(f"edition name {name!r} must be a slug such as 2025 or call-2024 (and not 'current')")
    target = data_dirs[0] / EDITIONS_FOLDER / name
    editions = read_editions(data_dirs)
    if name in editions or target.exists():
        raise DataFileError(f"edition {name!r} exists already ({target}); remove that folder first to replace it")
    for path in paths:
        if not path.is_file():
            raise DataFileError(f"{path}: no such file")
    new = [read_data_file(p, display=f"{EDITIONS_FOLDER}/{name}/{p.name}") for p in paths]
    compile_dataset(read_files(data_dirs), base_uri, editions={**editions, name: new})

    def copy(staging: Path) -> None:
        for path in paths:
            shutil.copyfile(path, staging / path.name)

    publish_folder(target, copy)
    return target


def edition_graph_name(name: str) -> str:
    return f"edition/{name}"


def personal_data_violations(files: list[DataFile]) -> list[Violation]:
    """Person records are personal data (AVG/GDPR): they may only live in internal files."""
    return [Violation(f.display, str(r.get("id", "?")), "visibility", "person-internal",
                      "person records are personal data: keep them in a file marked 'visibility: internal'")
            for f in files if f.entity_type.name == "person" and f.visibility != INTERNAL for r in f.records]


def _compile_edition(files: list[DataFile], edition_files: list[DataFile], base: str) -> tuple[Graph, list[Violation]]:
    """An edition is checked against the current reference data (clusters, themes, missions...):
    its files stand in for the current files of the same types."""
    replaced = {f.entity_type.name for f in edition_files}
    together = [f for f in files if f.entity_type.name not in replaced] + edition_files
    names = name_graphs(together)
    conversion = convert_files(together, base, names)
    own = {f.display for f in edition_files}  # the current files are checked on their own already
    found = conversion.violations or validate_conversion(conversion)
    violations = personal_data_violations(edition_files) + [v for v in found if v.file in own]
    graph = Graph()
    for f in edition_files:
        graph += conversion.graphs[names[f.display]]
    return graph, violations


def build(data_dirs: Sequence[Path], base_uri: str, store: Store, *, progress: bool = False,
          replace_import: bool = False, skip: Collection[int] = ()) -> BuildReport:
    """Rebuild the store from the data folders, minting URIs under `base_uri`, and replay the admin
    writes journaled for it (kg.replay); on any error the store is untouched. A store that holds an
    import is only replaced with `replace_import`; journaled writes numbered in `skip` are not replayed."""
    started = time.perf_counter()
    files = read_files(data_dirs, progress=progress)
    editions = read_editions(data_dirs, progress=progress)
    compiled = compile_dataset(files, base_uri, editions=editions, progress=progress)
    if not isinstance(store, (OxigraphStore, SharedStore)):  # no versions, no journal
        store.replace_all(compiled.quads)
        return BuildReport(compiled.files, compiled.records, len(compiled.quads), compiled.graphs,
                           time.perf_counter() - started)
    _refuse_to_replace_an_import(store, replace_import)
    writes = [w for w in store.journal.active() if w.seq not in skip] if store.journal else []
    replayed = replay(compiled.quads, writes)
    store.replace_all(replayed.quads, kind="build", writes=tuple(w.seq for w in writes))
    return BuildReport(compiled.files, compiled.records, len(replayed.quads), compiled.graphs,
                       time.perf_counter() - started, tuple(writes), replayed.unchanged, tuple(store.pruned))


def _refuse_to_replace_an_import(store: OxigraphStore | SharedStore, replace_import: bool) -> None:
    current = store.current()
    made = read_manifest(current) if current else None
    if made is not None and made.kind == "import" and not replace_import:
        raise ImportWouldBeLost(
            f"the store holds an import ({made.note or 'a dump'}, {made.created[:19]}) that a build from the data "
            "files would replace. Keep it first with: python -m kg export -o kept.trig; then build anyway with: "
            "python -m kg build --replace-import (or go back to it later with: python -m kg rollback "
            f"{made.name})")


def _ontology_graph() -> Graph:
    return Graph().parse(ONTOLOGY_PATH, format="turtle")


def _meta_graphs(files: list[DataFile], names: dict[str, str], conversion: Conversion,
                 editions: dict[str, tuple[Graph, list[DataFile]]], base: str) -> tuple[Graph, Graph]:
    """VoID/DCAT description of the dataset and PROV for every named graph: public graphs are
    described in the public metadata graph, internal ones (and editions with an internal file)
    in the internal one, so that even their names stay out of public view."""
    public, internal = Graph(), Graph()
    now = Literal(dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime, normalize=False)
    dataset = dataset_uri(base)
    public.add((dataset, RDF.type, VOID.Dataset))
    public.add((dataset, RDF.type, DCAT.Dataset))
    public.add((dataset, DCTERMS.title, Literal("Missiekompas: kennisgraaf KIA Sleuteltechnologieën", lang="nl")))
    public.add((dataset, DCTERMS.title, Literal("Missiekompas: knowledge graph of the KIA Key Technologies", lang="en")))
    public.add((dataset, DCTERMS.license, LICENCE))
    public.add((dataset, DCTERMS.modified, now))
    public.add((dataset, VOID.uriSpace, Literal(base)))
    for name, visibility in ((ONTOLOGY_GRAPH, PUBLIC), (META_GRAPH, PUBLIC), (INTERNAL_META_GRAPH, INTERNAL)):
        meta = public if visibility == PUBLIC else internal
        meta.add((graph_uri(base, name), MK.visibility, Literal(visibility)))

    def describe(g: URIRef, visibility: str, sources: list[DataFile], triples: int) -> Graph:
        meta = public if visibility == PUBLIC else internal
        meta.add((dataset, VOID.subset, g))
        meta.add((g, RDF.type, MK.DataGraph))
        for f in sources:
            meta.add((g, MK.sourceFile, Literal(f.display)))
            meta.add((g, MK.sourceHash, Literal(f.sha256)))
        meta.add((g, MK.visibility, Literal(visibility)))
        meta.add((g, PROV.generatedAtTime, now))
        meta.add((g, VOID.triples, Literal(triples, datatype=XSD.integer)))
        return meta

    for f in files:
        describe(graph_uri(base, names[f.display]), f.visibility, [f], len(conversion.graphs[names[f.display]]))
    for name, (graph, sources) in editions.items():
        visibility = INTERNAL if any(f.visibility == INTERNAL for f in sources) else PUBLIC
        g = graph_uri(base, edition_graph_name(name))
        meta = describe(g, visibility, sources, len(graph))
        meta.add((g, RDF.type, MK.Edition))
        meta.add((g, MK.editionName, Literal(name)))
        meta.add((g, MK.isSample, Literal(any(f.sample for f in sources))))
    return public, internal


def _to_quads(graph: Graph, name: URIRef) -> list[ox.Quad]:
    graph_name = ox.NamedNode(str(name))
    return [ox.Quad(_term(s), _term(p), _term(o), graph_name) for s, p, o in graph]


def _term(node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if isinstance(node, URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)
        if node.datatype:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    raise TypeError(f"unexpected RDF term {node!r}")
