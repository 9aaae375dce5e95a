"""The `python -m search` command line: build the index, match a proposal, Kernteam analytics. It reads
the configuration (config) and hands search plain values."""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config import Settings, SettingsError, load_settings
from kg.access import AUDIENCES, INTERNAL
from kg.cli import configured_store, run_guarded
from kg.errors import KgError
from kg.store import GraphView, Store
from kg.uris import mint_uri
from search.embedder import Embedder, ModelUnavailable
from search.index import SearchIndex
from search.match import Filters, Matcher
from search.readers import SUFFIXES, ProposalUnreadable, read_proposal
from search.render import render_match
from search.service import index_folder, open_index, open_matcher, set_threads

# The analytics (search.gaps, .overlaps, .plan_gaps, .calibration, .render_analytics) are imported by
# their commands: a match, the command that must answer fast, does not load them.

KINDS = ("question", "programme", "project", "mission", "mmip", "kem")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_guarded(lambda: int(args.run(args, load_settings()) or 0),
                       (KgError, SettingsError, ModelUnavailable, ProposalUnreadable),
                       "the index on disk is unchanged unless a build had finished")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m search", description="Semantic search over the Missiekompas graph.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    build = sub.add_parser("build", help="build the search index (only when the graph or model changed)")
    build.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    build.set_defaults(run=_build)
    match = sub.add_parser("match", help="match a proposal to questions, consortia (programmes and projects), "
                                          "missions, clusters, themes")
    source = match.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", metavar="FILE", help="a .txt, .md, .pdf or .docx proposal")
    source.add_argument("--text", help="the proposal text itself")
    match.add_argument("--json", action="store_true", help="machine-readable output")
    match.add_argument("--top", type=int, default=5, help="hits per section (default 5)")
    match.add_argument("--kind", action="append", choices=KINDS, default=[], help="only these kinds (repeatable)")
    for facet in ("cluster", "theme", "mission"):
        match.add_argument(f"--{facet}", action="append", default=[], metavar="ID",
                           help=f"only hits linked to this {facet} (id or IRI; repeatable)")
    match.add_argument("--no-samples", action="store_true",
                       help="leave sample records (illustrative, not real) out of every section and explanation")
    match.set_defaults(run=_match)
    _partners_command(sub)
    _analytics(sub)
    return parser


def _partners_command(sub: argparse._SubParsersAction) -> None:
    text = ("organisations whose track record (projects, programmes) fits a proposal and adds what the consortium "
            "lacks: clusters, missions, kinds of organisation; each with the projects behind it")
    partners = sub.add_parser("partners", help=text, description=text)
    source = partners.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", metavar="FILE", help="a .txt, .md, .pdf or .docx proposal")
    source.add_argument("--text", help="the proposal text itself")
    partners.add_argument("--have", action="append", default=[], metavar="ORG",
                          help="an organisation already in the consortium: id, IRI or name (TNO, \"tu delft\"); repeatable")
    partners.add_argument("--json", action="store_true", help="machine-readable output")
    partners.add_argument("--top", type=int, default=10, help="organisations suggested (default 10)")
    _samples_flag(partners)
    partners.set_defaults(run=_partners)


def _analytics(sub: argparse._SubParsersAction) -> None:
    commands = (
        ("gaps", _report, _gaps, 20, "mission blank spots: missions, MMIPs and mission questions that the consortia "
         "(MJPs, programmes and projects) address least"),
        ("plan-gaps", _plan_gaps, None, 10, "knowledge questions of a plan's clusters and themes that it leaves open"),
        ("overlaps", _report, _overlaps, 20, "pairs and groups of consortia (MJPs, programmes and projects) with "
         "strongly overlapping aims"),
    )
    for name, run, analyse, top, text in commands:
        command = sub.add_parser(name, help=text, description=text)
        if name == "plan-gaps":
            command.add_argument("plan", metavar="CONSORTIUM|FILE", help="a consortium: a programme id (e.g. sample-mjp-04), "
                                 "programme/ID, project/ID or an IRI; or a .txt, .md, .pdf or .docx plan")
        command.add_argument("--json", action="store_true", help="machine-readable output (everything, not only the top)")
        command.add_argument("--top", type=int, default=top, help=f"items shown (default {top})")
        command.add_argument("--threshold", type=float, metavar="COSINE",
                             help="similarity threshold (default: MK_GAP_THRESHOLD or MK_OVERLAP_THRESHOLD)")
        _samples_flag(command)
        command.set_defaults(run=run, analyse=analyse)
    command = sub.add_parser("calibrate", help="the thresholds that best match the graph's explicit links (F1)")
    command.add_argument("--json", action="store_true", help="machine-readable output")
    _samples_flag(command)
    command.set_defaults(run=_report, analyse=_calibrate)


def _samples_flag(command: argparse.ArgumentParser) -> None:
    command.add_argument("--no-samples", action="store_true",
                         help="leave the sample consortia (illustrative records) out: their links and texts do not count")


def _index(settings: Settings, store: Store | None = None, *, audience: str = INTERNAL,
           force: bool = False) -> tuple[SearchIndex, Embedder, GraphView, bool]:
    """search.service.open_index over `store` (default: the configured one), as configured."""
    return open_index(store or configured_store(settings), model=settings.model, index_path=settings.index_path,
                      hnsw_threshold=settings.hnsw_threshold, audience=audience, force=force,
                      progress=sys.stderr.isatty())


def _matcher(settings: Settings, store: Store | None = None) -> Matcher:
    """search.service.open_matcher over `store` (default: the configured one), as configured, with its model loaded (every
    command that opens one encodes text), under _loading. torch and FAISS get one thread: a match
    encodes a few passages in batches of 4, too little work to share out (two threads took 2-20 times
    as long per match on a busy two-core machine, waiting on each other)."""
    with _loading():
        set_threads(1)
        matcher = open_matcher(store or configured_store(settings), model=settings.model, index_path=settings.index_path,
                               hnsw_threshold=settings.hnsw_threshold, dense_weight=settings.dense_weight,
                               lexical_weight=settings.lexical_weight, progress=sys.stderr.isatty(),
                               hubness_weight=settings.hubness_weight, strong_threshold=settings.strong_threshold,
                               fair_threshold=settings.fair_threshold)
        matcher.embedder.load()
    return matcher


@contextmanager
def _loading() -> Iterator[None]:
    """Python's cyclic garbage collector off while torch, transformers, spaCy, the model and the index
    load, then back as it was, with everything loaded frozen out of its sight (gc.freeze). Loading
    creates millions of objects that live until the command ends, and the collector went over them
    again and again as they came: about 2 s of a 9 s `match` (docs/search.md)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def _build(args: argparse.Namespace, settings: Settings) -> int:
    """One index per audience (kg.access); the second reuses the vectors of texts both share."""
    store = configured_store(settings)
    for audience in AUDIENCES:
        index, _, _, rebuilt = _index(settings, store, audience=audience, force=args.force)
        manifest = index.manifest
        state = "built" if rebuilt else "up to date"
        folder = index_folder(settings.index_path, audience)
        print(f"{audience} search index {state}: {manifest['documents']} documents of {manifest['entities']} "
              f"entities, model {manifest['model']} ({manifest['dimension']} dims) in {folder}")
    return 0


def _match(args: argparse.Namespace, settings: Settings) -> int:
    text = read_proposal(Path(args.file)) if args.file else args.text
    base = settings.base_uri

    def iris(kind: str, values: list[str]) -> tuple[str, ...]:
        return tuple(v if v.startswith(("http://", "https://")) else str(mint_uri(base, kind, v)) for v in values)

    filters = Filters(kinds=tuple(args.kind), clusters=iris("cluster", args.cluster), themes=iris("theme", args.theme),
                      missions=iris("mission", args.mission), include_samples=not args.no_samples)
    result = _matcher(settings).match(text, top=max(1, args.top), filters=filters)
    return _emit(args, result, render_match(result))


def _partners(args: argparse.Namespace, settings: Settings) -> int:
    from search.render_partners import render_partners
    from search.service import open_partner_finder

    text = read_proposal(Path(args.file)) if args.file else args.text
    store = configured_store(settings)
    finder = open_partner_finder(store, _matcher(settings, store), base=settings.base_uri)
    result = finder.suggest(text, tuple(args.have), top=max(1, args.top), include_samples=not args.no_samples)
    return _emit(args, result, render_partners(result))


def _emit(args: argparse.Namespace, result: Any, text: str) -> int:
    """The result as JSON with --json, else as `text`."""
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(text)
    return 0


def _report(args: argparse.Namespace, settings: Settings) -> int:
    """gaps, overlaps, calibrate: `args.analyse` over the index and its graph."""
    index, _, store, _ = _index(settings)
    return int(args.analyse(args, settings, store, index))


def _gaps(args: argparse.Namespace, settings: Settings, store: GraphView, index: SearchIndex) -> int:
    from search.gaps import find_mission_gaps
    from search.render_analytics import render_gaps

    result = find_mission_gaps(store, index, _threshold(args, settings.gap_threshold), samples=not args.no_samples)
    return _emit(args, result, render_gaps(result, max(1, args.top)))


def _overlaps(args: argparse.Namespace, settings: Settings, store: GraphView, index: SearchIndex) -> int:
    from search.overlaps import find_overlaps
    from search.render_analytics import render_overlaps

    result = find_overlaps(store, index, _threshold(args, settings.overlap_threshold), samples=not args.no_samples)
    return _emit(args, result, render_overlaps(result, max(1, args.top)))


def _calibrate(args: argparse.Namespace, settings: Settings, store: GraphView, index: SearchIndex) -> int:
    from search.calibration import calibrate
    from search.render_analytics import render_calibration

    result = calibrate(store, index, samples=not args.no_samples)
    return _emit(args, result, render_calibration(result, str(index.manifest["model"]),
                                                  (settings.gap_threshold, settings.overlap_threshold)))


def _plan_gaps(args: argparse.Namespace, settings: Settings) -> int:
    from search.plan_gaps import consortium_iri, find_consortium_gaps, find_upload_gaps
    from search.render_analytics import render_plan_gaps

    threshold = _threshold(args, settings.gap_threshold)
    path = Path(args.plan)
    if path.suffix.lower() in SUFFIXES or path.is_file():
        text = read_proposal(path)
        result = find_upload_gaps(_matcher(settings), text, threshold, name=path.name)
    else:
        index, _, store, _ = _index(settings)
        result = find_consortium_gaps(store, index, consortium_iri(settings.base_uri, args.plan), threshold,
                                      samples=not args.no_samples)
    return _emit(args, result, render_plan_gaps(result, max(1, args.top)))


def _threshold(args: argparse.Namespace, default: float) -> float:
    if args.threshold is None:
        return default
    if not -1 <= args.threshold <= 1:
        raise KgError(f"--threshold {args.threshold} is not a cosine similarity between -1 and 1")
    return float(args.threshold)
