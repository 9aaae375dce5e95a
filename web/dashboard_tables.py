"""The dashboard's tables as CSV downloads (/dashboard/<name>.csv): every row, not only the ones a page shows,
for the request's audience; blank spots and overlaps with or without the samples (?samples=), edition
changes for the editions asked (?before=, ?after=)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response

from kg.figures import CONSORTIUM_KINDS
from web.dashboard_view import Board
from web.errors import BadRequest
from web.exports import csv_download

Table = Callable[[Board, str], Response]  # (the request's analytics, its language) -> the CSV


def _labels(board: Board, lang: str) -> Callable[[str, str], str]:
    """A theme's or cluster's label in `lang` (the query's label when it is no axis of the matrix)."""
    matrix = board.matrix()
    axes = {axis.iri: axis for axis in (*matrix.themes, *matrix.clusters)}
    return lambda iri, label: axes[iri].label(lang) if iri in axes else label


def _shares(name: str) -> Table:
    """Figure 1 (MJPs per theme or cluster): every share with its real and sample MJPs."""
    def table(board: Board, lang: str) -> Response:
        label = _labels(board, lang)
        rows = [[s.iri, label(s.iri, s.label), s.count, s.share, s.real, s.samples, s.real == 0 and s.samples > 0]
                for s in getattr(board.figures(), name.replace("-", "_"))]
        return csv_download(["iri", "label", "count", "share", "real", "samples", "sample_only"], rows,
                            f"missiekompas-{name}.csv")
    return table


def _questions(board: Board, lang: str) -> Response:
    """Figure 2: questions per cluster, with how many are proxies (not from Bijlage A)."""
    label = _labels(board, lang)
    rows = [[q.iri, label(q.iri, q.label), q.count, q.share, q.proxies, q.from_bijlage_a]
            for q in board.figures().questions_per_cluster]
    return csv_download(["iri", "label", "count", "share", "proxies", "from_bijlage_a"], rows,
                        "missiekompas-questions-per-cluster.csv")


def _real_consortia(facet: str) -> Table:
    """The real consortia (no samples) per theme or cluster, per kind."""
    def table(board: Board, lang: str) -> Response:
        label = _labels(board, lang)
        rows = [[c.iri, label(c.iri, c.label), c.count, c.share, *(c.by_kind.get(k, 0) for k in CONSORTIUM_KINDS)]
                for c in getattr(board.figures().real_consortia, f"per_{facet}")]
        return csv_download(["iri", "label", "consortia", "share", *CONSORTIUM_KINDS], rows,
                            f"missiekompas-real-consortia-per-{facet}.csv")
    return table


def _matrix(board: Board, lang: str) -> Response:
    header, rows = board.matrix().table(lang)
    return csv_download(header, rows, "missiekompas-theme-cluster.csv")


def _budget(board: Board, lang: str) -> Response:
    """Per amount: the graph's real, sample and all MJPs that state it (sum and count), then what agendas report."""
    figures = board.figures()
    rows: list[list[object]] = []
    for line in figures.budget:
        rows += [["graph-real", line.amount, line.real, line.real_mjps, line.sample_only],
                 ["graph-samples", line.amount, line.samples, line.sample_mjps, line.sample_only],
                 ["graph-all", line.amount, line.all, line.real_mjps + line.sample_mjps, line.sample_only]]
    for reported in figures.reported:
        source = str(reported.get("label") or reported.get("agenda"))
        rows += [[source, key, reported[field], reported.get("mjps", ""), ""]
                 for key, field in (("total", "budgetTotal"), ("committed", "budgetCommitted"))
                 if reported.get(field) is not None]
    return csv_download(["source", "budget", "eur", "mjps", "sample_only"], rows, "missiekompas-budget.csv")


def _gaps(board: Board, lang: str) -> Response:
    """Every item, not only the ones the page shows."""
    rows = []
    for rank, c in enumerate(board.gaps().items, 1):
        best = c.best_consortium
        rows.append([rank, c.kind, c.item.iri, c.item.label, c.item.is_sample, c.status, c.linked_consortia,
                     c.linked_samples, *(c.linked_by_kind.get(k, 0) for k in CONSORTIUM_KINDS), _blank(c.best_similarity),
                     best.iri if best else "", best.label if best else "", best.kind if best else "",
                     best.is_sample if best else "", c.threshold])
    return csv_download(["rank", "kind", "iri", "label", "is_sample", "status", "linked_consortia", "linked_samples",
                         *(f"linked_{k}" for k in CONSORTIUM_KINDS), "best_similarity", "best_consortium",
                         "best_consortium_label", "best_consortium_kind", "best_consortium_is_sample", "threshold"],
                        rows, "missiekompas-gaps.csv")


def _overlap_rows(board: Board, lang: str) -> Response:
    found = board.overlaps()
    group_of = {m.iri: number for number, group in enumerate(found.groups, 1) for m in group.members}
    rows = [[rank, group_of.get(p.first.iri, ""), p.similarity,
             p.first.iri, p.first.label, p.first.kind, p.first.is_sample,
             p.second.iri, p.second.label, p.second.kind, p.second.is_sample,
             "; ".join(c.label for c in p.shared_concepts),
             "; ".join(f"{link.relation}: {link.target.label}" for link in p.shared_links)]
            for rank, p in enumerate(found.pairs, 1)]
    return csv_download(["rank", "group", "similarity", "first", "first_label", "first_kind", "first_is_sample", "second",
                         "second_label", "second_kind", "second_is_sample", "shared_concepts", "shared_links"],
                        rows, "missiekompas-overlaps.csv")


def _compared(board: Board) -> bool:
    """Whether there are two editions to compare: refused (400) when the same one is asked twice."""
    choice = board.editions
    if choice.is_same and choice.has_past:
        raise BadRequest(f"before and after are both {choice.before!r}: choose two different editions")
    return choice.has_past


def _edition_changes(board: Board, lang: str) -> Response:
    """One row per new or dropped MJP, and one per changed field of a changed MJP."""
    choice, rows = board.editions, []
    if _compared(board):
        diff = board.diff()
        rows += [[choice.before, choice.after, change, s.iri, s.label, s.is_sample, "", "", ""]
                 for change, found in (("new", diff.new), ("dropped", diff.dropped)) for s in found]
        rows += [[choice.before, choice.after, "changed", c.iri, c.label, c.is_sample, f.field, "; ".join(f.before),
                  "; ".join(f.after)] for c in diff.changed for f in c.changes]
    return csv_download(["before_edition", "after_edition", "change", "iri", "label", "is_sample", "field", "before",
                         "after"], rows, "missiekompas-edition-changes.csv")


def _mission_coverage(board: Board, lang: str) -> Response:
    """MJPs per mission in both editions, every mission (the page shows the ones that changed)."""
    choice = board.editions
    rows = [[choice.before, choice.after, c.iri, c.label, c.before, c.after, c.delta]
            for c in (board.diff().coverage if _compared(board) else ())]
    return csv_download(["before_edition", "after_edition", "mission", "label", "mjps_before", "mjps_after", "delta"],
                        rows, "missiekompas-mission-coverage.csv")


def _blank(value: object) -> object:
    return "" if value is None else value


TABLES: dict[str, Table] = {
    "theme-cluster": _matrix,
    "mjps-per-theme": _shares("mjps-per-theme"),
    "mjps-per-cluster": _shares("mjps-per-cluster"),
    "questions-per-cluster": _questions,
    "budget": _budget,
    "real-consortia-per-theme": _real_consortia("theme"),
    "real-consortia-per-cluster": _real_consortia("cluster"),
    "gaps": _gaps,
    "overlaps": _overlap_rows,
    "edition-changes": _edition_changes,
    "mission-coverage": _mission_coverage,
}
