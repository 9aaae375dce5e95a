"""Reading SPARQL text into tokens as the engine (pyoxigraph 0.5) reads it, for the checks a request
passes before it is evaluated (kg.sparql_text).

The terminals follow the SPARQL 1.1 grammar and the 1.2 drafts (triple terms, reifiers, annotations,
VERSION, base directions), with the engine's own readings where they differ from the grammar:
- codepoint escapes (\\u, \\U) are not processed before parsing, only inside IRIs and strings;
- a prefixed name's local part takes at most one run of dots inside it (`ex:a.b.c` is `ex:a.b` `.`);
- a keyword is matched as a prefix of whatever follows (`SERVICEex:a` is SERVICE `ex:a`), so a
  prefixed name or word that starts with an outbound keyword is reported as one (kg.sparql_text);
- `<` after an operand inside an expression is the less-than operator, elsewhere it opens an IRI.
A word that is not a SPARQL keyword or function is an error here, as it is for the grammar: a check
that cannot read the text refuses it instead of guessing."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, wraps
from typing import Any, NamedTuple, TypeVar

from kg.errors import QueryError

IRI, PNAME, BNODE, VAR, STRING, NUMBER, LANG, WORD, PUNCT = (
    "iri", "pname", "bnode", "var", "string", "number", "lang", "word", "punct")

_KEYWORD_TEXT = """
ABS ADD ADJUST ALL AS ASC ASK AVG BASE BIND BNODE BOUND BY CEIL CLEAR COALESCE CONCAT CONSTRUCT
CONTAINS COPY COUNT CREATE DATA DATATYPE DAY DEFAULT DELETE DESC DESCRIBE DISTINCT DROP
ENCODE_FOR_URI EXISTS FILTER FLOOR FROM GRAPH GROUP GROUP_CONCAT HAVING HOURS IF IN INSERT INTO IRI
LANG LANGDIR LANGMATCHES LATERAL LCASE LIMIT LOAD MAX MD5 MIN MINUS MINUTES MONTH MOVE NAMED NOT NOW
OBJECT OFFSET OPTIONAL ORDER PREDICATE PREFIX RAND REDUCED REGEX REPLACE ROUND SAMPLE SECONDS SELECT
SEPARATOR SERVICE SHA1 SHA256 SHA384 SHA512 SILENT STR STRAFTER STRBEFORE STRDT STRENDS STRLANG
STRLANGDIR STRLEN STRSTARTS STRUUID SUBJECT SUBSTR SUM TIMEZONE TO TRIPLE TZ UCASE UNDEF UNION URI
USING UUID VALUES VERSION WHERE WITH YEAR HASLANG HASLANGDIR ISBLANK ISIRI ISLITERAL ISNUMERIC
ISTRIPLE ISURI SAMETERM
"""
KEYWORDS = frozenset(_KEYWORD_TEXT.split())  # the engine's keywords and functions, matched case-insensitively
CASE_SENSITIVE_WORDS = frozenset({"a", "true", "false"})

_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F"
         "\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_U = f"_{_BASE}"
_CHARS = f"\\-0-9\u00B7\u0300-\u036F\u203F-\u2040{_U}"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PREFIX = f"[{_BASE}][{_CHARS}]*(?:\\.+[{_CHARS}]+)*"
_LOCAL = f"(?:[{_U}:0-9]|{_PLX})(?:[{_CHARS}:]|{_PLX})*(?:\\.+(?:[{_CHARS}:]|{_PLX})+)?"
_ESC = r"\\[tbnrf\"'\\]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"

# The table: token kinds and their terminals, tried in this order at each position. "<" opens an IRI
# here; after an operand inside an expression the tokenizer reads it again as an operator.
_TABLE: tuple[tuple[str, str], ...] = (
    (STRING, f'"""(?:(?:""|")?(?:[^"\\\\]|{_ESC}))*"""'),
    (STRING, f"'''(?:(?:''|')?(?:[^'\\\\]|{_ESC}))*'''"),
    (STRING, f'"(?:[^"\\\\\\n\\r]|{_ESC})*"'),
    (STRING, f"'(?:[^'\\\\\\n\\r]|{_ESC})*'"),
    (IRI, r'<(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>'),
    (PNAME, f"(?:{_PREFIX})?:(?:{_LOCAL})?"),
    (BNODE, f"_:[{_U}0-9][{_CHARS}]*(?:\\.+[{_CHARS}]+)*"),
    (VAR, f"[?$][{_U}0-9][{_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*"),
    (WORD, "[A-Za-z_][A-Za-z0-9_]*"),
    (NUMBER, r"(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+|[0-9]*\.[0-9]+|[0-9]+"),
    (LANG, "@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*(?:--[a-zA-Z]+)?"),
    (PUNCT, r"<<\(|<<|<=|\)>>|>>|\{\||\|\}|\^\^|&&|\|\||!=|>=|[{}()\[\];,.=<>!+\-*/^|?~]"),
)
_SKIP = r"(?:[ \t\r\n]++|#[^\r\n]*+)*+"  # possessive: no comment is given back to a token
_TOKEN = re.compile(_SKIP + "(?:" + "|".join(f"(?P<{kind}{i}>{pattern})" for i, (kind, pattern) in enumerate(_TABLE))
                    + ")")
_END = re.compile(_SKIP + r"\Z")
_KIND_OF_GROUP = {f"{kind}{i}": kind for i, (kind, _) in enumerate(_TABLE)}
_LESS = re.compile(r"<=|<")

# Frames: what an open bracket started. Expressions (E) are where "<" may be an operator.
GROUP, BLANK, EXPR, LIST, QUOTED, TRIPLE, ANNOTATION = "{", "[", "E", "L", "<<", "<<(", "{|"
_CLOSER = {"}": (GROUP,), "]": (BLANK,), ")": (EXPR, LIST), ">>": (QUOTED,), ")>>": (TRIPLE,), "|}": (ANNOTATION,)}
_OPENER = {"{": GROUP, "[": BLANK, "<<": QUOTED, "<<(": TRIPLE, "{|": ANNOTATION}
_OPERAND_END = frozenset({VAR, IRI, PNAME, STRING, NUMBER, LANG})
_BRACKETS = frozenset({"(", *_OPENER, *_CLOSER})


class Token(NamedTuple):
    kind: str
    text: str
    start: int  # offset in the request text
    depth: int  # brackets open around the token (its own included for an opener)

    @property
    def keyword(self) -> str:
        """The keyword in upper case ('' for anything but a word)."""
        return self.text.upper() if self.kind == WORD else ""


class SparqlSyntaxError(QueryError):
    """The text cannot be read as SPARQL: the request is refused before it reaches the engine."""


CACHED_TEXT_CHARS = 16_384  # longer texts are lexed afresh: 256 cached texts stay a few MB at most


T = TypeVar("T")


def cached_per_text(function: Callable[..., T]) -> Callable[..., T]:
    """`function(text, ...)` remembered for the last 256 texts up to CACHED_TEXT_CHARS long (one
    request asks several questions of the same text; partner tools send the same texts again)."""
    remembered = lru_cache(maxsize=256)(function)

    @wraps(function)
    def call(text: str, *args: Any) -> T:
        return remembered(text, *args) if len(text) <= CACHED_TEXT_CHARS else function(text, *args)

    return call


def tokens(text: str) -> tuple[Token, ...]:
    """The tokens of a query or update; raises SparqlSyntaxError where no terminal matches."""
    return _tokens(text)


@cached_per_text
def _tokens(text: str) -> tuple[Token, ...]:
    out: list[Token] = []
    frames: list[str] = []
    scanner = _TOKEN.scanner(text)
    while True:
        match = scanner.match()
        if match is None:
            break
        kind, value, pos = _KIND_OF_GROUP[match.lastgroup or ""], match.group(match.lastgroup or 0), match.start(
            match.lastgroup or 0)
        if value[0] == "<" and frames and frames[-1] == EXPR and out and _ends_operand(out[-1]):
            kind, value = PUNCT, _LESS.match(text, pos).group()  # type: ignore[union-attr]
            scanner = _TOKEN.scanner(text, pos + len(value))
        elif kind == WORD and value not in CASE_SENSITIVE_WORDS and value.upper() not in KEYWORDS:
            raise _error(text, pos, f"unknown keyword {value!r}")
        depth = len(frames)
        if kind == PUNCT and value in _BRACKETS:
            shorter = _track(value, frames, out, text, pos)
            if shorter != value:
                value, scanner = shorter, _TOKEN.scanner(text, pos + len(shorter))
            depth = max(depth, len(frames))
        out.append(Token(kind, value, pos, depth))
    end = out[-1].start + len(out[-1].text) if out else 0
    if not _END.match(text, end):
        raise _error(text, _SKIP_ONLY.match(text, end).end())  # type: ignore[union-attr]
    return tuple(out)


_SKIP_ONLY = re.compile(_SKIP)


def _track(value: str, frames: list[str], out: list[Token], text: str, pos: int) -> str:
    """Open or close a frame for a bracket; a two-character closer that closes nothing here is read as
    its first character (")>>" outside a triple term is ")" then ">>")."""
    if value in _CLOSER and len(value) > 1 and (not frames or frames[-1] not in _CLOSER[value]):
        value = value[0]
    if value == "(":
        frames.append(_paren_frame(frames, out))
    elif value in _OPENER:
        frames.append(_OPENER[value])
    elif value in _CLOSER:
        if not frames or frames[-1] not in _CLOSER[value]:
            raise _error(text, pos, f"unbalanced {value!r}")
        frames.pop()
    return value


def _ends_operand(token: Token) -> bool:
    return (token.kind in _OPERAND_END or token.text in (")", ")>>", "}", "]")
            or (token.kind == WORD and token.text in ("true", "false")))


def _paren_frame(frames: list[str], out: list[Token]) -> str:
    """Whether "(" opens an expression or a list (a collection, VALUES variables or a row)."""
    if frames and frames[-1] == EXPR:
        return EXPR
    previous = out[-1] if out else None
    if previous is not None and previous.kind == WORD:
        return LIST if previous.text == "a" or previous.keyword == "VALUES" else EXPR
    if not frames:  # projections, GROUP BY, ORDER BY, HAVING
        return EXPR
    if previous is not None and previous.kind in (IRI, PNAME) and len(out) > 1 and out[-2].keyword == "FILTER":
        return EXPR  # FILTER <f>(...)
    return EXPR if _in_modifier(frames, out) else LIST


_MODIFIERS = frozenset({"SELECT", "DISTINCT", "REDUCED", "BY", "HAVING", "ASC", "DESC"})


def _in_modifier(frames: list[str], out: list[Token]) -> bool:
    """Inside a subquery's projection or its GROUP BY / ORDER BY / HAVING, "(" opens an expression:
    the nearest keyword at this depth says so (looking back a bounded number of tokens)."""
    depth = len(frames)
    for token in reversed(out[-64:]):
        if token.depth < depth:
            return False
        if token.depth == depth and token.kind == WORD and token.text not in CASE_SENSITIVE_WORDS:
            return token.keyword in _MODIFIERS
    return False


def _error(text: str, pos: int, what: str = "") -> SparqlSyntaxError:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    found = text[pos:pos + 20].split("\n")[0]
    return SparqlSyntaxError(f"malformed SPARQL at line {line}, column {column}: "
                             f"{what or 'cannot read ' + repr(found)}")
