"""Content negotiation: the `format` parameter first, then the Accept header with its q-values."""

from __future__ import annotations

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from web.errors import NotAcceptableFormat

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
FORMAT_ALIASES = {"turtle": "ttl", "ntriples": "nt", "n-triples": "nt", "json-ld": "jsonld", "rdf": "rdfxml",
                  "trig": "trig", "nquads": "nq", "n-quads": "nq"}


def negotiate(offers: dict[str, tuple[str, ...]], accept: str | None, fmt: str | None) -> str:
    """The format name to answer in. An explicit `format` (name or media type) wins; otherwise the
    highest q-value in Accept, ties going to the order of `offers`. Raises NotAcceptableFormat."""
    if fmt:
        name = FORMAT_ALIASES.get(fmt.lower(), fmt.lower())
        if name in offers:
            return name
        for key, types in offers.items():
            if fmt.split(";")[0].strip().lower() in types:
                return key
        raise NotAcceptableFormat(f"format={fmt!r} is not available here; choose from {', '.join(offers)}")
    if not accept:
        return next(iter(offers))
    parsed = parse_accept_header(accept, MIMEAccept)
    best, best_q = None, 0.0
    for key, types in offers.items():
        q = max((parsed.quality(t) for t in types), default=0.0)
        if q > best_q:
            best, best_q = key, q
    if best is None:
        wanted = ", ".join(v for v, _ in parsed) or accept
        raise NotAcceptableFormat(f"cannot answer in {wanted}; available: "
                                  + ", ".join(types[0] for types in offers.values()))
    return best


def prefers_html(accept: str | None) -> bool:
    """True when a browser asks: text/html is accepted at least as much as any RDF or results type."""
    if not accept:
        return False
    parsed = parse_accept_header(accept, MIMEAccept)
    html = max(parsed.quality("text/html"), parsed.quality("application/xhtml+xml"))
    others = [t for types in (*RESULTS_OFFERS.values(), *GRAPH_OFFERS.values()) for t in types]
    explicit = max((q for v, q in parsed if v in others), default=0.0)
    return html > 0 and html >= explicit and "text/html" in accept
