"""Downloads: match results as CSV or JSON, and any table of rows as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence

from flask import Response

from search.result import Hit, MatchResult

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run such a cell as a formula
MATCH_COLUMNS = ("section", "rank", "kind", "iri", "label", "score", "is_sample", "lead", "partners", "shared_concepts",
                 "passage", "passage_similarity", "dense_score", "dense_rank", "lexical_score", "lexical_rank")


def safe_cell(value: object) -> object:
    """Text that a spreadsheet would take for a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()


def download(body: str, filename: str, media_type: str) -> Response:
    response = Response(body, content_type=f"{media_type}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_download(header: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> Response:
    return download(csv_text(header, rows), filename, "text/csv")


def match_rows(result: MatchResult) -> list[list[object]]:
    """One row per hit, then one per suggested cluster and theme (section, rank, iri, label and score only)."""
    rows: list[list[object]] = []
    for section in ("questions", "programmes", "missions", "kem_categories"):
        hits: tuple[Hit, ...] = getattr(result, section)
        rows += [_hit_row(section, rank, hit) for rank, hit in enumerate(hits, 1)]
    for section, suggestions in (("clusters", result.clusters), ("themes", result.themes)):
        rows += [[section, rank, section[:-1], s.iri, s.label, s.score, *[""] * 10]
                 for rank, s in enumerate(suggestions, 1)]
    return rows


def _hit_row(section: str, rank: int, hit: Hit) -> list[object]:
    why = hit.explanation
    names = {role: "; ".join(dict.fromkeys(m.label for m in hit.members if m.role == role)) for role in ("lead", "partner")}
    return [section, rank, hit.kind, hit.iri, hit.label, hit.score, hit.is_sample, names["lead"], names["partner"],
            "; ".join(c.label + (" (by meaning)" if c.by_meaning else "") for c in why.shared_concepts), why.passage or "",
            _blank(why.passage_similarity),
            _blank(why.dense_score), _blank(why.dense_rank), _blank(why.lexical_score), _blank(why.lexical_rank)]


def _blank(value: object) -> object:
    return "" if value is None else value


def match_csv(result: MatchResult) -> Response:
    return csv_download(MATCH_COLUMNS, match_rows(result), "missiekompas-match.csv")


def match_json(result: MatchResult) -> Response:
    return download(json.dumps(result.to_dict(), ensure_ascii=False, indent=2), "missiekompas-match.json",
                    "application/json")
