"""The `python -m kg` command line: build, validate, stats, export, import, query. With search.cli and
web, the only readers of the configuration (config): the rest of kg is handed plain values."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from config import Settings, SettingsError, load_settings
from kg.access import AUDIENCES, INTERNAL, PUBLIC
from kg.build import add_edition, build, compile_dataset, read_editions, read_files
from kg.editions import diff_editions, format_diff, list_editions
from kg.errors import InvalidRecord, KgError
from kg.export import export_graph, import_file
from kg.figures import compute_figures, format_figures
from kg.forget import forget_person
from kg.formats import RDF_FORMATS, RESULTS_FORMATS, rdf_format
from kg.history import format_versions, format_write, format_writes, writes_as_update
from kg.journal import Journal, describe_changes
from kg.publish import write_atomically
from kg.queries import named_query, query_names
from kg.remote import RemoteEndpoint
from kg.shared import SharedStore
from kg.sparql_text import check_complexity, clear_silently, query_form
from kg.stats import compute_stats, format_stats
from kg.store import OxigraphStore, Store, open_store


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def run() -> int:
        settings = load_settings()
        if getattr(args, "data", None):
            settings = replace(settings, data_dirs=settings.data_dirs + tuple(Path(d) for d in args.data))
        return int(args.run(args, settings) or 0)

    return run_guarded(run, (KgError, SettingsError), "the store is unchanged unless a build had finished")


def configured_store(settings: Settings, *, create: bool = False) -> Store:
    """The store the configuration names (MK_STORE: its folder, or the remote endpoint and its sign-in)."""
    if settings.store == "shared":
        journal = settings.journal_path or settings.shared_path / "journal.jsonl"
        return SharedStore(settings.shared_path, settings.shared_public_urls, settings.shared_internal_urls,
                           graph_prefix=f"{settings.base_uri}graph/", journal=Journal(journal),
                           keep_versions=settings.keep_versions, timeout_s=settings.query_timeout_s + 5,
                           grace_s=settings.shared_grace_s, token=settings.remote_token, user=settings.remote_user,
                           password=settings.remote_password)
    remote = RemoteEndpoint(settings.remote_query_url, settings.remote_update_url, f"{settings.base_uri}graph/",
                            token=settings.remote_token, user=settings.remote_user, password=settings.remote_password,
                            timeout_s=settings.query_timeout_s)
    return open_store(settings.store, settings.store_path, create=create, remote=remote, journal=settings.journal(),
                      keep_versions=settings.keep_versions)


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
        if name == "build":
            p.add_argument("--replace-import", action="store_true",
                           help="replace a store that holds an import (`kg import`) with the data files")
    command("stats", _stats, "entities per class and MJPs per theme and cluster")
    p = command("figures", _figures, "portfolio figures: MJPs per theme and cluster, questions per cluster, budgets "
                "(real and sample apart), real consortia per theme and cluster")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="machine-readable")
    shape.add_argument("--csv", action="store_true", help="chart-ready CSV, one row per figure and key")
    _audience_option(p)
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
    command("history", _history, "the kept store versions (builds, writes, rollbacks) and the journaled admin writes")
    p = command("rollback", _rollback, "make a kept store version current again (atomically; readers never see a mix)")
    p.add_argument("version", metavar="VERSION", help="a version name from `kg history` (or the unique end of it)")
    p = command("update", _update, "run a SPARQL update on the store as an admin write (journaled, in the history)")
    text = p.add_mutually_exclusive_group(required=True)
    text.add_argument("file", nargs="?", metavar="FILE.ru", help="file with the update")
    text.add_argument("--sparql", metavar="TEXT", help="the update text")
    p.add_argument("--visibility", choices=AUDIENCES, help="of the graphs it creates (default: internal)")
    p = command("writes", _writes, "the journaled admin writes: list, show one, export them, or drop one from replay")
    p.add_argument("action", nargs="?", default="list", choices=["list", "show", "export", "drop"])
    p.add_argument("seqs", nargs="*", type=int, metavar="N", help="write numbers (show, drop)")
    p.add_argument("--output", "-o", metavar="FILE", help="export: file to write (default: standard output)")
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
    _audience_option(p)
    return parser


def _audience_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--audience", choices=AUDIENCES, default=PUBLIC,
                   help="whose view to read: public (default; what the web shows anonymous users) or internal (the "
                        "Kernteam's, internal records included)")


def _say_view(audience: str) -> None:
    """One line on stderr naming the view read, so that nobody takes one audience's numbers for the other's."""
    print("reading the public view (use --audience internal for the Kernteam view)" if audience == PUBLIC
          else "reading the internal (Kernteam) view: internal records included", file=sys.stderr)


def _build(args: argparse.Namespace, settings: Settings) -> int:
    store = configured_store(settings, create=True)
    report = build(settings.data_dirs, settings.base_uri, store, progress=not args.quiet and sys.stderr.isatty(),
                   replace_import=args.replace_import)
    print(f"built {report.quads} quads in {len(report.graphs) + 2} graphs from {report.records} records "
          f"in {report.files} files ({report.seconds:.1f} s) into the {store.name} store")
    if report.replayed:
        print(f"replayed {len(report.replayed)} journaled admin write(s) on top of the data files "
              f"(#{', #'.join(str(w.seq) for w in report.replayed)}); see: python -m kg writes")
    for write in report.unchanged:
        print(f"note: write #{write.seq} changed nothing this time (the data files already say it, or what it deletes "
              f"is gone); once they say what it meant, stop replaying it: python -m kg writes drop {write.seq}")
    _say_pruned(report.pruned, settings)
    return 0


def _oxigraph_store(settings: Settings) -> OxigraphStore:
    store = configured_store(settings)
    if not isinstance(store, OxigraphStore):
        raise KgError(f"rollback belongs to the embedded store; MK_STORE is {store.name}")
    return store


def _versioned_store(settings: Settings) -> OxigraphStore | SharedStore:
    """The store of the history, admin updates and the write journal: the embedded or the shared one."""
    store = configured_store(settings)
    if not isinstance(store, (OxigraphStore, SharedStore)):
        raise KgError(f"the history, updates and the write journal belong to the embedded and the shared store; "
                      f"MK_STORE is {store.name}")
    return store


def _history(args: argparse.Namespace, settings: Settings) -> int:
    store = _versioned_store(settings)
    current = store.current()
    print(format_versions(store.history(), current.name if current else ""))
    print()
    print(format_writes(store.journal.writes() if store.journal else []))
    return 0


def _say_pruned(pruned: Sequence[str], settings: Settings) -> None:
    if pruned:
        print(f"pruned {len(pruned)} old store version(s), keeping {settings.keep_versions} (MK_KEEP_VERSIONS)")


def _rollback(args: argparse.Namespace, settings: Settings) -> int:
    store = _oxigraph_store(settings)
    info = store.rollback(args.version, who=_cli_user())
    print(f"rolled back: the store now holds what version {info.note} held, as new version {info.name}")
    _say_pruned(store.pruned, settings)
    print("the search index follows the store at its next build: python -m search build")
    return 0


def _update(args: argparse.Namespace, settings: Settings) -> int:
    sparql = args.sparql if args.sparql is not None else _read_text(args.file)
    check_complexity(sparql)
    store = _versioned_store(settings)
    effect = store.update(clear_silently(sparql), who=_cli_user(), visibility=args.visibility)
    print(f"updated: {describe_changes(effect.changes)}")
    _say_pruned(store.pruned, settings)
    return 0


def _writes(args: argparse.Namespace, settings: Settings) -> int:
    store = _versioned_store(settings)
    writes = store.journal.writes() if store.journal else []
    chosen = [w for w in writes if w.seq in args.seqs]
    unknown = sorted(set(args.seqs) - {w.seq for w in chosen})
    if unknown:
        raise KgError(f"no journaled write #{unknown[0]}; see: python -m kg writes")
    if args.action in ("show", "drop") and not chosen:
        raise KgError(f"say which write(s): python -m kg writes {args.action} N")
    if args.action == "list":
        print(format_writes(writes))
    elif args.action == "show":
        print("\n\n".join(format_write(w) for w in chosen))
    elif args.action == "drop":
        assert store.journal is not None
        store.journal.end("drop", [w.seq for w in chosen], f"dropped by {_cli_user()}")
        print(f"dropped write(s) #{', #'.join(str(w.seq) for w in chosen)} from replay: the store keeps them until the "
              "next build, which no longer applies them")
    else:
        text = writes_as_update([w for w in writes if w.is_active])
        if args.output:
            write_atomically(Path(args.output), text.encode("utf-8"))
            print(f"wrote {sum(1 for w in writes if w.is_active)} write(s) to {args.output}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    return 0


def _cli_user() -> str:
    return f"cli:{getpass.getuser()}"


def _read_text(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KgError(f"cannot read {path}: {exc}") from exc


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    files = read_files(settings.data_dirs, progress=not args.quiet and sys.stderr.isatty())
    compiled = compile_dataset(files, settings.base_uri, editions=read_editions(settings.data_dirs),
                               progress=not args.quiet and sys.stderr.isatty())
    print(f"0 violations: {compiled.records} records in {compiled.files} files conform to the shapes")
    return 0


def _stats(args: argparse.Namespace, settings: Settings) -> int:
    print(format_stats(compute_stats(configured_store(settings))))
    return 0


def _figures(args: argparse.Namespace, settings: Settings) -> int:
    figures = compute_figures(configured_store(settings).view(args.audience))
    _say_view(args.audience)
    print(figures.to_json() if args.json else figures.to_csv() if args.csv else format_figures(figures),
          end="" if args.csv else "\n")
    return 0


def _editions(args: argparse.Namespace, settings: Settings) -> int:
    for edition in list_editions(configured_store(settings).view(INTERNAL)):
        sample = "  [sample: an illustrative edition, not a real past portfolio]" if edition.is_sample else ""
        print(f"{edition.name:<12} {edition.graph or '(the default graph: the current portfolio)'}{sample}")
    return 0


def _diff(args: argparse.Namespace, settings: Settings) -> int:
    diff = diff_editions(configured_store(settings).view(INTERNAL), args.before, args.after)
    print(json.dumps(diff.to_dict(), ensure_ascii=False, indent=2) if args.json else format_diff(diff))
    return 0


def _add_edition(args: argparse.Namespace, settings: Settings) -> int:
    folder = add_edition(settings.data_dirs, settings.base_uri, args.name, [Path(f) for f in args.files])
    report = build(settings.data_dirs, settings.base_uri, configured_store(settings, create=True))
    print(f"edition {args.name} kept in {folder}; rebuilt: {report.quads} quads. Compare with: "
          f"python -m kg diff {args.name} current")
    return 0


def _forget(args: argparse.Namespace, settings: Settings) -> int:
    removal = forget_person(configured_store(settings, create=True), args.person, data_dirs=settings.data_dirs,
                            base_uri=settings.base_uri, store_path=settings.store_path, index_path=settings.index_path)
    print(f"removed person {removal.person} from {removal.file}; rebuilt the store and dropped older versions")
    print("checked: " + "; ".join(removal.checked))
    if removal.leftovers:
        print("STILL FOUND in: " + "; ".join(removal.leftovers), file=sys.stderr)
        return 1
    print("verified: no identifying value of the person is left in any of these")
    return 0


def _export(args: argparse.Namespace, settings: Settings) -> int:
    data = export_graph(configured_store(settings), rdf_format(args.format))
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
    count = import_file(configured_store(settings, create=True), Path(args.file))
    print(f"imported {count} quads from {args.file}")
    return 0


def _query(args: argparse.Namespace, settings: Settings) -> int:
    if args.named:
        sparql = named_query(args.named)
    elif args.sparql:
        sparql = args.sparql
    else:
        sparql = _read_text(args.file)
    check_complexity(sparql)  # the parser would crash this process rather than refuse
    view = configured_store(settings).view(args.audience)
    form = query_form(sparql)
    fmt = args.format
    if fmt == "table" and form == "SELECT":
        table = _table(view.select(sparql))
        _say_view(args.audience)  # after the query: a malformed one is an error line first
        print(table)
        return 0
    if fmt == "table":
        fmt = "tsv" if form == "ASK" else "ttl"
    answer = view.query_to(sparql, fmt)
    _say_view(args.audience)
    sys.stdout.buffer.write(answer)
    return 0


def _table(rows: list[dict[str, object]]) -> str:
    if not rows:
        return "(no results)"
    columns = list(dict.fromkeys(k for r in rows for k in r))
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [min(60, max(len(c), *(len(row[i]) for row in cells))) for i, c in enumerate(columns)]
    line = lambda vals: "  ".join(v[:60].ljust(w) for v, w in zip(vals, widths, strict=True))  # noqa: E731
    return "\n".join([line(columns), line(["-" * w for w in widths]), *map(line, cells), f"({len(rows)} rows)"])
