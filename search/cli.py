"""The `python -m search` command line: build the index, match a proposal."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kg.cli import run_guarded
from kg.errors import KgError
from kg.settings import Settings, load_settings
from kg.uris import mint_uri
from search.embedder import ModelUnavailable
from search.match import Filters
from search.readers import ProposalUnreadable, read_proposal
from search.render import render_match
from search.service import open_index, open_matcher

KINDS = ("question", "programme", "mission", "mmip", "kem")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return run_guarded(lambda: int(args.run(args, load_settings()) or 0),
                       (KgError, ModelUnavailable, ProposalUnreadable),
                       "the index on disk is unchanged unless a build had finished")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m search", description="Semantic search over the Missiekompas graph.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")
    build = sub.add_parser("build", help="build the search index (only when the graph or model changed)")
    build.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    build.set_defaults(run=_build)
    match = sub.add_parser("match", help="match a proposal to questions, programmes, missions, clusters, themes")
    source = match.add_mutually_exclusive_group(required=True)
    source.add_argument("file", nargs="?", metavar="FILE", help="a .txt, .md, .pdf or .docx proposal")
    source.add_argument("--text", help="the proposal text itself")
    match.add_argument("--json", action="store_true", help="machine-readable output")
    match.add_argument("--top", type=int, default=5, help="hits per section (default 5)")
    match.add_argument("--kind", action="append", choices=KINDS, default=[], help="only these kinds (repeatable)")
    for facet in ("cluster", "theme", "mission"):
        match.add_argument(f"--{facet}", action="append", default=[], metavar="ID",
                           help=f"only hits linked to this {facet} (id or IRI; repeatable)")
    match.set_defaults(run=_match)
    return parser


def _build(args: argparse.Namespace, settings: Settings) -> int:
    index, _, _, rebuilt = open_index(settings, force=args.force, progress=sys.stderr.isatty())
    manifest = index.manifest
    state = "built" if rebuilt else "up to date"
    print(f"search index {state}: {manifest['documents']} documents of {manifest['entities']} entities, "
          f"model {manifest['model']} ({manifest['dimension']} dims) in {settings.index_path}")
    return 0


def _match(args: argparse.Namespace, settings: Settings) -> int:
    text = read_proposal(Path(args.file)) if args.file else args.text
    base = settings.base_uri

    def iris(kind: str, values: list[str]) -> tuple[str, ...]:
        return tuple(v if v.startswith(("http://", "https://")) else str(mint_uri(base, kind, v)) for v in values)

    filters = Filters(kinds=tuple(args.kind), clusters=iris("cluster", args.cluster), themes=iris("theme", args.theme),
                      missions=iris("mission", args.mission))
    result = open_matcher(settings, progress=sys.stderr.isatty()).match(text, top=max(1, args.top), filters=filters)
    if args.json:
        json.dump(result.to_dict(), sys.stdout, ensure_ascii=False, indent=2)
        print()
    else:
        print(render_match(result))
    return 0
