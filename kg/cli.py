"""The `python -m kg` command line: build, validate, stats, export, import, query."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from kg.access import INTERNAL
from kg.build import add_edition, build, compile_dataset, read_editions, read_files
from kg.editions import diff_editions, format_diff, list_editions
from kg.errors import InvalidRecord, KgError
from kg.export import export_graph, import_file
from kg.figures import compute_figures, format_figures
from kg.forget import forget_person
from kg.formats import RDF_FORMATS, RESULTS_FORMATS, rdf_format
from kg.queries import named_query, query_names
from kg.settings import Settings, load_settings
from kg.sparql_text import check_complexity, query_form
from kg.stats import compute_stats, format_stats
from kg.store import open_store


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def run() -> int:
        settings = load_settings()
        if getattr(args, "data", None):
            settings = replace(settings, data_dirs=settings.data_dirs + tuple(Path(d) for d in args.data))
        return int(args.run(args, settings) or 0)

    return run_guarded(run, (KgError,), "the store is unchanged unless a build had finished")


def run_guarded(run: Callable[[], int], errors: tuple[type[Exception], ...], interrupted: str) -> int:
    """Run a command the way every CLI here does: a known error is one line on stderr (exit 1), a
    closed output pipe (`| head`) ends quietly, Ctrl-C says what state is left (exit 130)."""
    try:
        return run()
    except InvalidRecord as exc:
        print(f"invalid data: {exc}", file=sys.stderr)
        return 1
    except errors as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"interrupted; {interrupted}", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m kg", description="Build and query the Missiekompas knowledge graph.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, run: object, text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(run=run)
        return p

    for name, run, text in (("build", _build, "validate the data files, then (re)build the store"),
                            ("validate", _validate, "check the data files against the SHACL shapes; write nothing")):
        p = command(name, run, text)
        p.add_argument("--data", action="append", metavar="DIR",
                       help="an extra folder of data files (repeatable), read with the configured ones")
        p.add_argument("--quiet", action="store_true", help="no progress bar")
    command("stats", _stats, "entities per class and MJPs per theme and cluster")
    p = command("figures", _figures, "portfolio figures: MJPs per theme and cluster, questions per cluster, budgets")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="machine-readable")
    shape.add_argument("--csv", action="store_true", help="chart-ready CSV, one row per figure and key")
    command("editions", _editions, "list the editions of the portfolio (past ones and 'current')")
    p = command("diff", _diff, "what changed between two editions: new, dropped, changed MJPs; MJPs per mission")
    p.add_argument("before", metavar="EDITION_A", help="the older edition, e.g. 2025")
    p.add_argument("after", metavar="EDITION_B", help="the newer edition, e.g. current")
    p.add_argument("--json", action="store_true", help="machine-readable")
    p = command("add-edition", _add_edition, "load a past edition: validate the files, keep them under "
                "<data>/editions/NAME/ and rebuild (all or nothing)")
    p.add_argument("name", metavar="NAME", help="a slug such as 2025 or call-2024")
    p.add_argument("files", nargs="+", metavar="FILE", help="programme (and organisation) files of that edition")
    p = command("forget", _forget, "remove a person (by id) from the data, the store, its dumps and the search index; "
                "then verify")
    p.add_argument("person", metavar="PERSON_ID")
    p = command("export", _export, "write the whole graph in an RDF format")
    p.add_argument("--format", default="trig", choices=sorted(RDF_FORMATS), help="default: trig (keeps named graphs)")
    p.add_argument("--output", "-o", metavar="FILE", help="file to write (default: standard output)")
    p = command("import", _import, "replace the store with a TriG or N-Quads dump")
    p.add_argument("file", metavar="FILE")
    p = command("query", _query, "run a SPARQL query against the store")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", metavar="FILE.rq", help="file with the query")
    source.add_argument("--sparql", metavar="TEXT", help="the query text")
    source.add_argument("--named", metavar="NAME", help=f"a named query: {', '.join(query_names())}")
    p.add_argument("--format", default="table",
                   choices=["table", *sorted(RESULTS_FORMATS), *sorted(f for f in RDF_FORMATS if not RDF_FORMATS[f].has_graphs)],
                   help="table (default), json, csv, tsv, xml for SELECT/ASK; ttl, nt, jsonld, rdfxml for CONSTRUCT/DESCRIBE")
    return parser


def _build(args: argparse.Namespace, settings: Settings) -> int:
    store = open_store(settings, create=True)
    report = build(settings, store, progress=not args.quiet and sys.stderr.isatty())
    print(f"built {report.quads} quads in {len(report.graphs) + 2} graphs from {report.records} records "
          f"in {report.files} files ({report.seconds:.1f} s) into the {store.name} store")
    return 0


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    files = read_files(settings.data_dirs, progress=not args.quiet and sys.stderr.isatty())
    compiled = compile_dataset(files, settings.base_uri, editions=read_editions(settings.data_dirs),
                               progress=not args.quiet and sys.stderr.isatty())
    print(f"0 violations: {compiled.records} records in {compiled.files} files conform to the shapes")
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    print(format_stats(compute_stats(open_store(settings))))
    return 0


def _figures(args: argparse.Namespace, settings: Settings) -> int:
    figures = compute_figures(open_store(settings))
    print(figures.to_json() if args.json else figures.to_csv() if args.csv else format_figures(figures),
          end="" if args.csv else "\n")
    return 0


def _editions(args: argparse.Namespace, settings: Settings) -> int:
    for edition in list_editions(open_store(settings).view(INTERNAL)):
        print(f"{edition.name:<12} {edition.graph or '(the default graph: the current portfolio)'}")
    return 0


def _diff(args: argparse.Namespace, settings: Settings) -> int:
    diff = diff_editions(open_store(settings).view(INTERNAL), args.before, args.after)
    print(json.dumps(diff.to_dict(), ensure_ascii=False, indent=2) if args.json else format_diff(diff))
    return 0


def _add_edition(args: argparse.Namespace, settings: Settings) -> int:
    folder = add_edition(settings, args.name, [Path(f) for f in args.files])
    report = build(settings, open_store(settings, create=True))
    print(f"edition {args.name} kept in {folder}; rebuilt: {report.quads} quads. Compare with: "
          f"python -m kg diff {args.name} current")
    return 0


def _forget(args: argparse.Namespace, settings: Settings) -> int:
    removal = forget_person(settings, open_store(settings, create=True), args.person)
    print(f"removed person {removal.person} from {removal.file}; rebuilt the store and dropped older versions")
    print("checked: " + "; ".join(removal.checked))
    if removal.leftovers:
        print("STILL FOUND in: " + "; ".join(removal.leftovers), file=sys.stderr)
        return 1
    print("verified: no identifying value of the person is left in any of these")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    data = export_graph(open_store(settings), rdf_format(args.format))
    if args.output:
        target = Path(args.output)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(data)
        partial.replace(target)  # never leave a half-written export under the real name
        print(f"wrote {len(data)} bytes of {args.format} to {target}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(data)
    return 0


def _import(args: argparse.Namespace, settings: Settings) -> int:
    count = import_file(open_store(settings, create=True), Path(args.file))
    print(f"imported {count} quads from {args.file}")
    return 0


def _query(args: argparse.Namespace, settings: Settings) -> int:
    if args.named:
        sparql = named_query(args.named)
    elif args.sparql:
        sparql = args.sparql
    else:
        try:
            sparql = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise KgError(f"cannot read query file {args.file}: {exc}") from exc
    check_complexity(sparql)  # the parser would crash this process rather than refuse
    store = open_store(settings)
    form = query_form(sparql)
    fmt = args.format
    if fmt == "table":
        if form == "SELECT":
            print(_table(store.select(sparql)))
            return 0
        fmt = "tsv" if form == "ASK" else "ttl"
    sys.stdout.buffer.write(store.query_to(sparql, fmt))
    return 0


def _table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "(no results)"
    columns = list(dict.fromkeys(k for r in rows for k in r))
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [min(60, max(len(c), *(len(row[i]) for row in cells))) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v[:60].ljust(w) for v, w in zip(vals, widths, strict=True))  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells), f"({len(rows)} rows)"])
