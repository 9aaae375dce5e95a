"""Building the graph: read data files, convert, validate with SHACL, then write atomically."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV, RDF, VOID, XSD
from rdflib.term import Node
from tqdm import tqdm

from kg.convert import Conversion, convert_files
from kg.errors import InvalidRecord
from kg.readers import DataFile, find_data_files, read_data_file
from kg.settings import Settings
from kg.store import Store
from kg.uris import dataset_uri, graph_uri, slugify
from kg.validate import validate_conversion
from ontology import MK, ONTOLOGY_PATH

LICENCE = URIRef("https://creativecommons.org/licenses/by/4.0/")
META_GRAPH = "meta"
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


def read_files(data_dirs: Iterable[Path], *, progress: bool = False) -> list[DataFile]:
    dirs = list(data_dirs)
    paths = find_data_files(dirs)
    return [
        read_data_file(p, display=_display(p, dirs))
        for p in tqdm(paths, desc="reading", unit="file", disable=not progress, leave=False)
    ]


def _display(path: Path, dirs: list[Path]) -> str:
    for d in dirs:
        if path.parent == d:
            return f"{d.name}/{path.name}"
    return str(path)


def name_graphs(files: list[DataFile]) -> dict[str, str]:
    """One graph name per file: its stem, made unique with the folder name when stems repeat."""
    names: dict[str, str] = {}
    taken = {META_GRAPH, ONTOLOGY_GRAPH}
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


def compile_dataset(files: list[DataFile], base: str, *, progress: bool = False) -> Compiled:
    """Convert and validate; raise InvalidRecord (and produce nothing) if any rule is broken."""
    names = name_graphs(files)
    steps = tqdm(total=2, desc="converting", disable=not progress, leave=False)
    conversion = convert_files(files, base, names)
    steps.update()
    steps.set_description("validating (SHACL)")
    violations = conversion.violations or validate_conversion(conversion)
    steps.update()
    steps.close()
    if violations:
        raise InvalidRecord(violations)
    quads: list[ox.Quad] = []
    for name, graph in conversion.graphs.items():
        quads.extend(_to_quads(graph, graph_uri(base, name)))
    quads.extend(_to_quads(_ontology_graph(), graph_uri(base, ONTOLOGY_GRAPH)))
    quads.extend(_to_quads(_meta_graph(files, names, conversion, base), graph_uri(base, META_GRAPH)))
    records = sum(len(f.records) for f in files)
    return Compiled(quads, len(files), records, tuple(names.values()))


def build(settings: Settings, store: Store, *, progress: bool = False) -> BuildReport:
    """Rebuild the store from the configured data folders; on any error the store is untouched."""
    started = time.perf_counter()
    files = read_files(settings.data_dirs, progress=progress)
    compiled = compile_dataset(files, settings.base_uri, progress=progress)
    store.replace_all(compiled.quads)
    return BuildReport(compiled.files, compiled.records, len(compiled.quads), compiled.graphs,
                       time.perf_counter() - started)


def _ontology_graph() -> Graph:
    return Graph().parse(ONTOLOGY_PATH, format="turtle")


def _meta_graph(files: list[DataFile], names: dict[str, str], conversion: Conversion, base: str) -> Graph:
    """VoID/DCAT description of the dataset and PROV for every named graph."""
    meta = Graph()
    now = Literal(dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime, normalize=False)
    dataset = dataset_uri(base)
    meta.add((dataset, RDF.type, VOID.Dataset))
    meta.add((dataset, RDF.type, DCAT.Dataset))
    meta.add((dataset, DCTERMS.title, Literal("Missiekompas: kennisgraaf KIA Sleuteltechnologieën", lang="nl")))
    meta.add((dataset, DCTERMS.title, Literal("Missiekompas: knowledge graph of the KIA Key Technologies", lang="en")))
    meta.add((dataset, DCTERMS.license, LICENCE))
    meta.add((dataset, DCTERMS.modified, now))
    meta.add((dataset, VOID.uriSpace, Literal(base)))
    for f in files:
        g = graph_uri(base, names[f.display])
        meta.add((dataset, VOID.subset, g))
        meta.add((g, RDF.type, MK.DataGraph))
        meta.add((g, MK.sourceFile, Literal(f.display)))
        meta.add((g, MK.sourceHash, Literal(f.sha256)))
        meta.add((g, MK.visibility, Literal(f.visibility)))
        meta.add((g, PROV.generatedAtTime, now))
        meta.add((g, VOID.triples, Literal(len(conversion.graphs[names[f.display]]), datatype=XSD.integer)))
    return meta


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
