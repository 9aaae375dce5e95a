"""The SPARQL extension functions of this endpoint (fn:similarity, fn:textScore): every query may call
them, and each call is answered from a score table the caller computed before the query ran.

The scores need the embedding model and the search index, which live in the server process (search),
while the query may run in a worker process without either (kg.worker). So the server reads the
literal texts a query passes the functions (kg.sparql_text.extension_calls), scores every indexed
entity against each of them once, and hands the tables over with the query (QueryRequest.functions);
a call in the query is then a dictionary lookup. A call the tables cannot answer (an entity without
text, a text that is not a literal written in the call, the wrong number of arguments) is unbound,
never an error."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pyoxigraph as ox

FN = "https://w3id.org/missiekompas/fn#"
SIMILARITY = FN + "similarity"  # fn:similarity(?entity, "text")
TEXT_SCORE = FN + "textScore"  # fn:textScore(?entity, "words")
FUNCTIONS = (SIMILARITY, TEXT_SCORE)
XSD_DOUBLE = ox.NamedNode("http://www.w3.org/2001/XMLSchema#double")

Scores = Mapping[str, float]  # entity IRI -> score
Function = Callable[..., ox.Literal | None]


@dataclass(frozen=True)
class FunctionContext:
    """Per function IRI, per literal text: the score of every entity that has one. Plain mappings, so
    a query job carries it to a worker process as it is (pickled)."""

    tables: Mapping[str, Mapping[str, Scores]] = field(default_factory=dict)

    def score(self, function: str, entity: object, text: object) -> float | None:
        if not isinstance(entity, ox.NamedNode) or not isinstance(text, ox.Literal):
            return None
        return self.tables.get(function, {}).get(text.value, {}).get(entity.value)


def custom_functions(context: FunctionContext | None) -> dict[ox.NamedNode, Function]:
    """The functions for pyoxigraph's `custom_functions=`: every one of FUNCTIONS, answered from
    `context` (None: all unbound, so a query that calls them still runs, as in `python -m kg query`)."""
    found = context or FunctionContext()
    return {ox.NamedNode(name): _lookup(found, name) for name in FUNCTIONS}


def _lookup(context: FunctionContext, function: str) -> Function:
    def call(*args: object) -> ox.Literal | None:
        if len(args) != 2:
            return None
        value = context.score(function, *args)
        return None if value is None else ox.Literal(repr(value), datatype=XSD_DOUBLE)

    return call
