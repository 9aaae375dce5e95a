"""Content negotiation: the `format` parameter first, then the Accept header with its q-values."""

from __future__ import annotations

from dataclasses import dataclass

from web.errors import NotAcceptableFormat

BOOLEAN_OFFERS = {  # CSV and TSV are defined for SELECT results only
    "json": ("application/sparql-results+json", "application/json"),
    "xml": ("application/sparql-results+xml", "application/xml", "text/xml"),
}
RESULTS_OFFERS = {  # format name -> media types that select it; the first media type is what we send
    "json": ("application/sparql-results+json", "application/json"),
    "xml": ("application/sparql-results+xml", "application/xml", "text/xml"),
    "csv": ("text/csv",),
    "tsv": ("text/tab-separated-values",),
}
GRAPH_OFFERS = {
    "ttl": ("text/turtle", "application/x-turtle"),
    "nt": ("application/n-triples", "text/plain"),
    "jsonld": ("application/ld+json", "application/json"),
    "rdfxml": ("application/rdf+xml", "application/xml", "text/xml"),
    "trig": ("application/trig",),
    "nq": ("application/n-quads",),
}
# `format=` names clients send (SPARQLWrapper sends xml, n3 and rdf+xml for graphs), per kind of answer.
FORMAT_ALIASES = {
    "results": {"srj": "json", "srx": "xml"},
    "graph": {"turtle": "ttl", "n3": "ttl", "ntriples": "nt", "n-triples": "nt", "json-ld": "jsonld", "json": "jsonld",
              "rdf": "rdfxml", "rdf+xml": "rdfxml", "xml": "rdfxml", "nquads": "nq", "n-quads": "nq"},
}


@dataclass(frozen=True)
class _Range:
    kind: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """2 for an exact match, 1 for type/*, 0 for */*, -1 for no match."""
        kind, _, subtype = media_type.partition("/")
        if self.kind == "*" and self.subtype == "*":
            return 0
        if self.kind != kind:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == subtype else -1


def _ranges(accept: str) -> list[_Range]:
    found = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        kind, _, subtype = media.lower().partition("/")
        if not kind or not subtype:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(1.0, max(0.0, float(value)))
                except ValueError:
                    q = 0.0
        found.append(_Range(kind, subtype, q))
    return found


def _quality(ranges: list[_Range], types: tuple[str, ...]) -> float:
    """RFC 9110: the most specific range decides. The type we send (the first) may match any
    range; an alias type counts only where the client names it exactly."""
    best: tuple[int, float] = (-1, 0.0)
    for index, media_type in enumerate(types):
        for r in ranges:
            level = r.specificity(media_type)
            if level < 0 or (index > 0 and level < 2):
                continue
            if level > best[0] or (level == best[0] and r.q > best[1]):
                best = (level, r.q)
    return best[1]


def negotiate(offers: dict[str, tuple[str, ...]], accept: str | None, fmt: str | None) -> str:
    """The format name to answer in. An explicit `format` (name or media type) wins; otherwise the
    highest quality in Accept, ties going to the order of `offers`. Raises NotAcceptableFormat."""
    if fmt:
        aliases = FORMAT_ALIASES["graph" if "ttl" in offers else "results"]
        name = aliases.get(fmt.lower(), fmt.lower())
        if name in offers:
            return name
        for key, types in offers.items():
            if fmt.split(";")[0].strip().lower() in types:
                return key
        raise NotAcceptableFormat(f"format={fmt!r} is not available here; choose from {', '.join(offers)}")
    if not accept or not accept.strip():
        return next(iter(offers))
    ranges = _ranges(accept)
    best, best_q = None, 0.0
    for key, types in offers.items():
        q = _quality(ranges, types)
        if q > best_q:
            best, best_q = key, q
    if best is None:
        raise NotAcceptableFormat(f"cannot answer in {accept}; available: "
                                  + ", ".join(types[0] for types in offers.values()))
    return best


def prefers_html(accept: str | None) -> bool:
    """True when a browser asks: text/html is named and accepted at least as much as any RDF or results type."""
    if not accept:
        return False
    ranges = _ranges(accept)
    named = [r for r in ranges if r.specificity("text/html") == 2 or r.specificity("application/xhtml+xml") == 2]
    html = max((r.q for r in named), default=0.0)
    others = max((_quality([r for r in ranges if r.specificity(t[0]) == 2], t)
                  for t in (*RESULTS_OFFERS.values(), *GRAPH_OFFERS.values())), default=0.0)
    return html > 0 and html >= others
