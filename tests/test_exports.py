"""Downloads (web/exports.py): CSV that a spreadsheet will not run as formulas, and match results as rows."""

from __future__ import annotations

import csv
import io

from search.match import Matcher
from web.exports import MATCH_COLUMNS, csv_text, match_rows, safe_cell


def test_formula_like_text_is_defused_and_numbers_stay() -> None:
    assert safe_cell("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    for start in "+-@":
        assert safe_cell(f"{start}1") == f"'{start}1"
    assert safe_cell(-3) == -3 and safe_cell(0.5) == 0.5 and safe_cell("plain") == "plain"


def test_csv_text_round_trips() -> None:
    text = csv_text(["a", "b"], [["x, y", "=1+1"], ["line\nbreak", 2]])
    assert list(csv.reader(io.StringIO(text))) == [["a", "b"], ["x, y", "'=1+1"], ["line\nbreak", "2"]]


def test_match_rows_have_every_column_and_one_row_per_hit(matcher: Matcher) -> None:
    result = matcher.match("Groene waterstof en elektrolyse voor de chemische industrie.", top=3)
    rows = match_rows(result)
    assert all(len(row) == len(MATCH_COLUMNS) for row in rows)
    hits = len(result.questions) + len(result.programmes) + len(result.missions) + len(result.kem_categories)
    assert len(rows) == hits + len(result.clusters) + len(result.themes)
    first = dict(zip(MATCH_COLUMNS, rows[0], strict=True))
    assert first["section"] == "questions" and first["rank"] == 1
    assert first["passage"] == "" and first["passage_similarity"] == ""  # one passage: no best passage
