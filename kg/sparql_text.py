"""What a SPARQL request says before it is evaluated, read from its tokens (kg.sparql_lexer): the query
form, outbound calls, dataset clauses, how deep it nests, and the protocol's rewrites of updates."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from kg.errors import QueryError
from kg.queries import SAFE_IRI
from kg.sparql_lexer import IRI, PNAME, PUNCT, STRING, VAR, Token, cached_per_text, tokens

MAX_NESTING = 200  # groups, brackets and parentheses inside each other
MAX_OPERATORS = 1_000  # path and expression operators in one request
_OPERATORS = frozenset({"&&", "||", "/", "|", "^", "+", "*", "!", "-", "=", "!=", "<", ">", "<=", ">=", "?"})
_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_OUTBOUND = ("SERVICE", "LOAD")
_PROLOGUE = ("BASE", "PREFIX")
_PROLOGUE_OR_OUTBOUND = frozenset({*_PROLOGUE, *_OUTBOUND})
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")
_STRING_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})|\\([tbnrf\"'\\\\])")
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def check_complexity(sparql: str) -> None:
    """Refuse what would overflow the engine's parser, which recurses per nesting level and per
    operator in a chain: thousands of nested groups, a path of thousands of steps. Real queries
    stay far below both limits."""
    deepest, operators = _shape(sparql)
    if deepest > MAX_NESTING:
        raise QueryError(f"the request nests groups or brackets {deepest} deep; at most {MAX_NESTING} are allowed")
    if operators > MAX_OPERATORS:
        raise QueryError(f"the request chains {operators} path or expression operators; at most {MAX_OPERATORS} "
                         "are allowed")


@cached_per_text
def _shape(sparql: str) -> tuple[int, int]:
    """How deep the text nests, and how many path or expression operators it has."""
    found = tokens(sparql)
    return (max((t.depth for t in found), default=0),
            sum(1 for t in found if t.kind == PUNCT and t.text in _OPERATORS))


def query_form(sparql: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first form keyword of the query."""
    for token in tokens(sparql):
        if token.keyword in _FORMS:
            return token.keyword
    raise QueryError("not a SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE found")


def outbound_calls(sparql: str, base_iri: str | None = None) -> list[str | None]:
    """The IRIs a query or update would fetch from elsewhere (SERVICE and LOAD targets), resolved as
    the engine resolves them; None where the target cannot be known before evaluation (a variable,
    an undeclared prefix, or a keyword run into a prefixed name, which the engine reads as two)."""
    return list(_outbound_calls(sparql, base_iri))


@cached_per_text
def _outbound_calls(sparql: str, base_iri: str | None) -> tuple[str | None, ...]:
    found: list[str | None] = []
    prefixes: dict[str, str | None] = {}
    base = base_iri
    stream = tokens(sparql)
    for i, token in enumerate(stream):
        if token.kind == PNAME:
            if token.text.upper().startswith(_OUTBOUND):
                found.append(None)
            continue
        keyword = token.keyword  # only words: every other kind has none
        if keyword not in _PROLOGUE_OR_OUTBOUND:
            continue
        following = stream[i + 1:i + 3]
        if keyword in _PROLOGUE:
            base = _declare(keyword, following, prefixes, base)
        elif keyword in _OUTBOUND:
            target = stream[i + 2] if following[:1] and following[0].keyword == "SILENT" and len(following) > 1 else (
                following[0] if following else None)
            found.append(_iri_of(target, prefixes, base) if target is not None else None)
    return tuple(found)


def _declare(keyword: str, following: tuple[Token, ...], prefixes: dict[str, str | None], base: str | None) -> str | None:
    """Record a BASE or PREFIX declaration (`following`: the two tokens after its keyword); returns the
    base in force after it."""
    if keyword == "BASE" and following[:1] and following[0].kind == IRI:
        return _iri_of(following[0], prefixes, base)
    if keyword == "PREFIX" and len(following) == 2 and following[0].kind == PNAME and following[1].kind == IRI:
        prefixes[following[0].text[:-1]] = _iri_of(following[1], prefixes, base)
    return base


def extension_calls(sparql: str, namespace: str, base_iri: str | None = None) -> list[tuple[str, str]]:
    """(function IRI, text) for every string literal written as a direct argument of a call to a
    function in `namespace`, IRIs resolved as the engine resolves them: the texts a server must
    prepare before the query runs (kg.functions). A text computed in the query is not among them."""
    return list(_extension_calls(sparql, namespace, base_iri))


@cached_per_text
def _extension_calls(sparql: str, namespace: str, base_iri: str | None) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    prefixes: dict[str, str | None] = {}
    base = base_iri
    stream = tokens(sparql)
    for i, token in enumerate(stream):
        if token.keyword in _PROLOGUE:
            base = _declare(token.keyword, stream[i + 1:i + 3], prefixes, base)
        elif token.kind in (IRI, PNAME) and i + 1 < len(stream) and stream[i + 1].text == "(":
            function = _iri_of(token, prefixes, base)
            if function is not None and function.startswith(namespace):
                found += [(function, text) for text in _string_arguments(stream, i + 1)]
    return tuple(found)


def _string_arguments(stream: tuple[Token, ...], opening: int) -> list[str]:
    """The string literals directly inside the parentheses opened at `opening` (not nested deeper)."""
    depth, texts = stream[opening].depth, []
    for token in stream[opening + 1:]:
        if token.depth < depth or (token.depth == depth and token.text == ")"):
            break
        if token.depth == depth and token.kind == STRING:
            texts.append(_string_value(token))
    return texts


def _string_value(token: Token) -> str:
    """The value of a string literal token, its quotes removed and its escapes processed."""
    quotes = 3 if token.text[:3] in ('"""', "'''") else 1
    return _STRING_ESCAPE.sub(_unescaped_string, token.text[quotes:-quotes])


def _unescaped_string(match: re.Match[str]) -> str:
    code = match.group(1) or match.group(2)
    return chr(int(code, 16)) if code else _ECHAR[match.group(3)]


def _iri_of(token: Token, prefixes: dict[str, str | None], base: str | None) -> str | None:
    if token.kind == IRI:
        iri = _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), token.text[1:-1])
    elif token.kind == PNAME:
        prefix, _, local = token.text.partition(":")
        if prefix.upper().startswith("SILENT") or prefixes.get(prefix) is None:
            return None  # SERVICE SILENTex:a is SERVICE SILENT ex:a to the engine
        iri = f"{prefixes[prefix]}{_LOCAL_ESCAPE.sub(_unescaped, local)}"
    else:
        return None
    if urlsplit(iri).scheme:
        return iri
    return urljoin(base, iri) if base else None


def _unescaped(match: re.Match[str]) -> str:
    return match.group(1)


def has_query_dataset(sparql: str) -> bool:
    return any(token.keyword == "FROM" for token in tokens(sparql))


@dataclass(frozen=True)
class UpdateDataset:
    using: tuple[str, ...] = ()
    using_named: tuple[str, ...] = ()


def apply_update_dataset(update: str, dataset: UpdateDataset) -> str:
    """Apply the protocol's using-graph-uri / using-named-graph-uri by adding USING clauses to every
    DELETE/INSERT ... WHERE operation. An update that names its own dataset conflicts (400)."""
    if not dataset.using and not dataset.using_named:
        return update
    stream = tokens(update)
    if any(token.keyword in ("USING", "WITH") for token in stream):
        raise QueryError("the update names its own dataset (USING/WITH) and the request gives "
                         "using-graph-uri/using-named-graph-uri: use one or the other")
    bad = [g for g in (*dataset.using, *dataset.using_named) if not SAFE_IRI.match(g)]
    if bad:
        raise QueryError(f"using-graph-uri / using-named-graph-uri must be absolute IRIs, not {bad[0]!r}")
    clause = " ".join([f"USING <{g}>" for g in dataset.using] + [f"USING NAMED <{g}>" for g in dataset.using_named])
    return _insert_before(update, [where.start for where in _modify_wheres(stream)], f"{clause} ")


def _modify_wheres(stream: tuple[Token, ...]) -> list[Token]:
    """The WHERE of each DELETE/INSERT ... WHERE operation (not DELETE WHERE, not ... DATA)."""
    wheres, operation = [], []
    for token in (*stream, None):
        if token is None or (token.depth == 0 and token.text == ";"):
            body = _without_prologue(operation)
            if len(body) > 1 and body[0].keyword in ("DELETE", "INSERT") and body[1].keyword not in ("DATA", "WHERE"):
                wheres += [t for t in body if t.depth == 0 and t.keyword == "WHERE"][:1]
            operation = []
        else:
            operation.append(token)
    return wheres


def _without_prologue(operation: list[Token]) -> list[Token]:
    i = 0
    while i < len(operation) and operation[i].keyword in ("BASE", "PREFIX", "VERSION"):
        i += 3 if operation[i].keyword == "PREFIX" else 2
    return operation[i:]


def clear_silently(update: str) -> str:
    """A quad store keeps no empty graphs, so CLEAR of a graph without triples is a no-op here,
    not an error: every CLEAR becomes CLEAR SILENT (DROP keeps its strict meaning)."""
    stream = tokens(update)
    ends = [token.start + len(token.text) for i, token in enumerate(stream)
            if token.keyword == "CLEAR" and (i + 1 == len(stream) or stream[i + 1].keyword != "SILENT")]
    return _insert_before(update, ends, " SILENT")


def _insert_before(text: str, offsets: list[int], piece: str) -> str:
    pieces, last = [], 0
    for offset in offsets:
        pieces += [text[last:offset], piece]
        last = offset
    return "".join(pieces) + text[last:]


_GRAPH_INTRODUCERS = frozenset({"GRAPH", "WITH", "TO", "ADD", "MOVE", "COPY", "USING", "NAMED"})


def written_graphs(update: str, base_iri: str | None = None) -> frozenset[str] | None:
    """The named graphs an update may read or change, from its text: every graph it names (after
    GRAPH, WITH, USING [NAMED], TO, ADD, MOVE or COPY). None when the text does not say which: a graph
    variable (GRAPH ?g), ALL, DROP/CLEAR NAMED, or a prefixed name that cannot be resolved. The
    default graph is not listed: any update may read and change it."""
    return _written_graphs(update, base_iri)


@cached_per_text
def _written_graphs(update: str, base_iri: str | None) -> frozenset[str] | None:
    found: set[str] = set()
    prefixes: dict[str, str | None] = {}
    base = base_iri
    stream = tokens(update)
    for i, token in enumerate(stream):
        keyword = token.keyword
        following = stream[i + 1:i + 3]
        if keyword in _PROLOGUE:
            base = _declare(keyword, following, prefixes, base)
        elif keyword == "ALL" or (keyword == "NAMED" and (i == 0 or stream[i - 1].keyword != "USING")):
            return None
        elif keyword in _GRAPH_INTRODUCERS or (keyword == "SILENT" and i and stream[i - 1].keyword in _GRAPH_INTRODUCERS):
            target = following[0] if following else None
            if target is None or target.kind == VAR:
                return None
            if target.kind in (IRI, PNAME):
                iri = _iri_of(target, prefixes, base)
                if iri is None:
                    return None
                found.add(iri)
    return frozenset(found)


def data_operations(update: str) -> list[tuple[str, str]] | None:
    """An update made only of INSERT DATA and DELETE DATA operations, as ("INSERT" or "DELETE", that
    operation's text written as an INSERT DATA with the prologue before it), in order: their quads are
    all they change, so a write can be worked out without reading any graph (kg.delta). None for an
    update with any other operation."""
    return _data_operations(update)


@cached_per_text
def _data_operations(update: str) -> list[tuple[str, str]] | None:
    found: list[tuple[str, str]] = []
    stream = tokens(update)
    declared = ""  # the PREFIX and BASE declarations so far: each holds for the operations after it
    start = 0
    for i, token in enumerate((*stream, None)):
        if token is not None and not (token.depth == 0 and token.text == ";"):
            continue
        operation = list(stream[start:i])
        start = i + 1
        body = _without_prologue(operation)
        if len(operation) > len(body):
            last = operation[len(operation) - len(body) - 1]
            declared += update[operation[0].start:last.start + len(last.text)] + "\n"
        if not body:
            continue  # a trailing ';', or a prologue alone
        if len(body) < 2 or body[0].keyword not in ("INSERT", "DELETE") or body[1].keyword != "DATA":
            return None
        end = token.start if token is not None else len(update)
        found.append((body[0].keyword, f"{declared}INSERT{update[body[0].start + len(body[0].text):end]}"))
    return found or None
