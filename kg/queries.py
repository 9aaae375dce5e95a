"""Named SPARQL queries (kg/queries/*.rq) that the CLI, search and web layers share."""

from __future__ import annotations

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

