"""Named SPARQL queries (kg/queries/*.rq) that the CLI, search and web layers share."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from kg.errors import KgError

QUERY_DIR = Path(__file__).with_name("queries")
SAFE_IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^<>\"{}|^`\\\s\x00-\x1f]*\Z")  # \Z: "$" allows a final newline


def query_names() -> list[str]:
    return sorted(p.stem for p in QUERY_DIR.glob("*.rq"))


@cache
def _query_text(name: str) -> str:
    path = QUERY_DIR / f"{name}.rq"
    if not path.is_file():
        raise KgError(f"no named query {name!r}; known: {', '.join(query_names())}")
    return path.read_text(encoding="utf-8")


def named_query(name: str, this: str | None = None) -> str:
    """The text of a named query; `this` binds the IRI that the query calls $this."""
    text = _query_text(name)
    if this is None:
        return text
    if not SAFE_IRI.match(this):
        raise KgError(f"not a usable IRI: {this!r}")
    return text.replace("$this", f"<{this}>")



EXAMPLES = (  # shown in the SPARQL editor: the common questions of partner institutes
    ("MJPs per cluster", "mjps_per_cluster"),
    ("Missions without a programme", "missions_without_programme"),
    ("Programmes of each organisation", "programmes_of_organisation"),
    ("Knowledge questions per cluster", "questions_per_cluster"),
    ("Questions closest to a text (fn:similarity)", "questions_like_a_text"),
    ("Programmes and projects by keywords (fn:textScore)", "consortia_by_keywords"),
    ("Organisations that worked with TNO on a mission A project", "worked_with_tno_mission_a"),
)


def example_queries() -> list[dict[str, str]]:
    """The examples with their names (a page finds each title in its own language by name), titles and texts."""
    return [{"name": name, "title": title, "query": named_query(name)} for title, name in EXAMPLES]
