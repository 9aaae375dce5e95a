"""Reading SPARQL text without evaluating it: query form, outbound calls, protocol dataset clauses."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from kg.errors import QueryError
from kg.queries import SAFE_IRI

# Comments, IRIs and string literals are masked before keywords are looked for, so that a
# keyword inside a label ("SERVICE desk") or an IRI is never mistaken for syntax.
_MASK = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n]|\\.)*"'
    r"|'(?:[^'\\\n]|\\.)*'"
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|#[^\n]*"
    r"|[?$][A-Za-z0-9_\u00B7-\uFFFF]+"  # variables: ?service, $from
    r"|(?:[A-Za-z][\w.-]*)?:[\w.%-]*"  # prefixed names: schema:Service, foaf:using, :with
)
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)
_OUTBOUND = re.compile(r"\b(SERVICE|LOAD)\b", re.IGNORECASE)
_DATASET_IN_UPDATE = re.compile(r"\b(USING|WITH)\b", re.IGNORECASE)
_DATASET_IN_QUERY = re.compile(r"\bFROM\b", re.IGNORECASE)
_MODIFY = re.compile(r"^\s*(?:PREFIX\s+\S*\s*|BASE\s*)*(?:WITH\s+\S+\s+)?(DELETE|INSERT)\b(?!\s+(?:DATA|WHERE)\b)",
                     re.IGNORECASE)
_WHERE = re.compile(r"\bWHERE\b", re.IGNORECASE)


@lru_cache(maxsize=64)  # one request asks several questions of the same text
def mask(text: str) -> str:
    """The text with comments, IRIs and strings blanked out, keeping every offset."""
    return _MASK.sub(lambda m: " " * len(m.group(0)), text)


MAX_NESTING = 200  # groups, brackets and parentheses inside each other
MAX_OPERATORS = 1_000  # path and expression operators in one request
_OPERATOR = re.compile(r"&&|\|\||[/|^+*!]")


def check_complexity(sparql: str) -> None:
    """Refuse what would overflow the SPARQL parser's stack (it recurses per nesting level and per
    operator in a chain): thousands of nested groups, a path of thousands of steps. Real queries
    stay far below both limits."""
    masked = mask(sparql)
    depth = deepest = 0
    openers = masked.count("{") + masked.count("(") + masked.count("[")
    scan = masked if openers > MAX_NESTING else ""  # with fewer openers the nesting cannot be too deep
    for char in scan:
        if char in "{([":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "})]":
            depth -= 1
    if deepest > MAX_NESTING:
        raise QueryError(f"the request nests groups or brackets {deepest} deep; at most {MAX_NESTING} are allowed")
    operators = len(_OPERATOR.findall(masked))
    if operators > MAX_OPERATORS:
        raise QueryError(f"the request chains {operators} path or expression operators; at most {MAX_OPERATORS} "
                         "are allowed")


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first form keyword outside comments, IRIs and strings."""
    match = _FORM.search(mask(sparql))
    if not match:
        raise QueryError("not a SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE found")
    return match.group(1).upper()


def outbound_calls(sparql: str) -> list[str]:
    """The IRIs a query or update would fetch from elsewhere (SERVICE and LOAD targets)."""
    masked = mask(sparql)
    found = []
    for match in _OUTBOUND.finditer(masked):
        rest = sparql[match.end():]
        target = re.match(r"\s*(?:SILENT\s+)?(<[^>]*>|\S+)", rest, re.IGNORECASE)
        found.append(target.group(1).strip("<>") if target else "?")
    return found


def has_query_dataset(sparql: str) -> bool:
    return bool(_DATASET_IN_QUERY.search(mask(sparql)))


@dataclass(frozen=True)
class UpdateDataset:
    using: tuple[str, ...] = ()
    using_named: tuple[str, ...] = ()


def apply_update_dataset(update: str, dataset: UpdateDataset) -> str:
    """Apply the protocol's using-graph-uri / using-named-graph-uri by adding USING clauses to every
    DELETE/INSERT ... WHERE operation. An update that names its own dataset conflicts (400)."""
    if not dataset.using and not dataset.using_named:
        return update
    masked = mask(update)
    if _DATASET_IN_UPDATE.search(masked):
        raise QueryError("the update names its own dataset (USING/WITH) and the request gives "
                         "using-graph-uri/using-named-graph-uri: use one or the other")
    bad = [g for g in (*dataset.using, *dataset.using_named) if not SAFE_IRI.match(g)]
    if bad:
        raise QueryError(f"using-graph-uri / using-named-graph-uri must be absolute IRIs, not {bad[0]!r}")
    clause = " ".join([f"USING <{g}>" for g in dataset.using] + [f"USING NAMED <{g}>" for g in dataset.using_named])
    pieces, start = [], 0
    for end in [*_top_level_semicolons(masked), len(update)]:
        pieces.append(_with_using(update[start:end], masked[start:end], clause))
        start = end
    return "".join(pieces)


def _with_using(operation: str, masked: str, clause: str) -> str:
    if not _MODIFY.match(masked.lstrip(";")):
        return operation
    depth = 0
    for i, char in enumerate(masked):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and _WHERE.match(masked, i) and (i == 0 or not masked[i - 1].isalnum()):
            return f"{operation[:i]}{clause} {operation[i:]}"
    return operation


def _top_level_semicolons(masked: str) -> list[int]:
    depth, found = 0, []
    for i, char in enumerate(masked):
        if char in "{[(":
            depth += 1
        elif char in "}])":
            depth -= 1
        elif char == ";" and depth == 0:
            found.append(i)
    return found


_CLEAR = re.compile(r"\bCLEAR\b(?!\s+SILENT\b)", re.IGNORECASE)


def clear_silently(update: str) -> str:
    """A quad store keeps no empty graphs, so CLEAR of a graph without triples is a no-op here,
    not an error: every CLEAR becomes CLEAR SILENT (DROP keeps its strict meaning)."""
    masked = mask(update)
    out, last = [], 0
    for match in _CLEAR.finditer(masked):
        out.append(update[last:match.end()] + " SILENT")
        last = match.end()
    return "".join(out) + update[last:]
