"""Named SPARQL queries (kg/queries/*.rq) that the CLI, search and web layers share."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from kg.errors import KgError

QUERY_DIR = Path(__file__).with_name("queries")


def query_names() -> list[str]:
    return sorted(p.stem for p in QUERY_DIR.glob("*.rq"))


@cache
def named_query(name: str) -> str:
    """The text of a named query; an unknown name lists the known ones."""
    path = QUERY_DIR / f"{name}.rq"
    if not path.is_file():
        raise KgError(f"no named query {name!r}; known: {', '.join(query_names())}")
    return path.read_text(encoding="utf-8")


_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_NOISE = re.compile(r"#[^\n]*|<[^>\s]*>|\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first form keyword outside comments, IRIs and strings."""
    match = _FORM.search(_NOISE.sub(" ", sparql))
    if not match:
        raise KgError("not a SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE found")
    return match.group(1).upper()
