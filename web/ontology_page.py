"""The ontology served at its namespace: /ontology answers by content negotiation with the HTML
documentation (generated from the ontology file, one anchor per term, so every term IRI
https://w3id.org/missiekompas/ontology#Term lands on its section) or the file as Turtle, JSON-LD,
N-Triples or RDF/XML; /ontology/shapes serves the SHACL shapes the same way, without HTML."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Blueprint, Response, render_template, request, url_for

from ontology import ONTOLOGY_PATH, SHAPES_PATH
from ontology import PREFIXES as ONTOLOGY_PREFIXES
from ontology.document import load_document, rdf_bytes
from web.i18n import current_language, t
from web.linked_data import ENTITY_OFFERS
from web.negotiation import negotiate, prefers_html

ontology_page = Blueprint("ontology_page", __name__)
RDF_OFFERS = ENTITY_OFFERS  # ttl (the default), jsonld, nt, rdfxml
PAGE_OFFERS = {**RDF_OFFERS, "html": ("text/html", "application/xhtml+xml")}  # format=html, or named in Accept
FORMAT_NAMES = {"ttl": "Turtle", "jsonld": "JSON-LD", "nt": "N-Triples", "rdfxml": "RDF/XML"}

PREFIXES = "".join(f"PREFIX {name}: <{ONTOLOGY_PREFIXES[name]}>\n" for name in ("mk", "org", "skos"))
# Example queries over the vocabulary ({lang} is the page's language): key -> query; titles are messages.
EXAMPLES = (
    ("mjp_leads", PREFIXES + """# Every MJP with the organisation that leads it (a membership with the lead role)
SELECT ?mjp ?title ?lead ?leadTitle
WHERE {
  ?mjp a mk:MJP .
  OPTIONAL { ?mjp skos:prefLabel ?title FILTER(LANG(?title) IN ("{lang}", "")) }
  OPTIONAL {
    ?membership org:organization ?mjp ; org:role mk:LeadRole ; org:member ?lead .
    OPTIONAL { ?lead skos:prefLabel ?leadTitle FILTER(LANG(?leadTitle) IN ("{lang}", "")) }
  }
}
ORDER BY ?title"""),
    ("per_mission", PREFIXES + """# Per mission: how many programmes and how many projects contribute to it
SELECT ?mission (SAMPLE(?label) AS ?title)
       (COUNT(DISTINCT ?programme) AS ?programmes) (COUNT(DISTINCT ?project) AS ?projects)
WHERE {
  ?mission a mk:Mission .
  OPTIONAL { ?mission skos:prefLabel ?label FILTER(LANGMATCHES(LANG(?label), "{lang}")) }
  OPTIONAL { ?programme a mk:Programme ; mk:contributesToMission ?mission }
  OPTIONAL { ?project a mk:Project ; mk:contributesToMission ?mission }
}
GROUP BY ?mission
ORDER BY DESC(?programmes) DESC(?projects) ?title"""),
    ("scheme_concepts", PREFIXES + """# The concepts of one concept scheme (here the technology clusters), with their labels
SELECT ?concept ?label
WHERE {
  ?concept skos:inScheme mk:clusters .
  OPTIONAL { ?concept skos:prefLabel ?label FILTER(LANGMATCHES(LANG(?label), "{lang}")) }
}
ORDER BY ?label"""),
    ("vocabulary", PREFIXES + """PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
# The vocabulary itself (it is in the graph too): its classes and properties with their labels
SELECT ?term ?kind ?label
WHERE {
  VALUES ?kind { owl:Class owl:ObjectProperty owl:DatatypeProperty }
  ?term a ?kind ; rdfs:label ?label .
  FILTER(STRSTARTS(STR(?term), STR(mk:)) && LANGMATCHES(LANG(?label), "{lang}"))
}
ORDER BY ?kind ?term"""),
)


@ontology_page.get("/ontology")
def document() -> Response:
    accept, fmt = request.headers.get("Accept"), request.args.get("format")
    chosen = "html" if prefers_html(accept) and not fmt else negotiate(PAGE_OFFERS, accept, fmt)
    if chosen == "html":
        response = Response(render_template("ontology.html", doc=load_document(), examples=example_queries(),
                                            formats=[(f, RDF_OFFERS[f][0], FORMAT_NAMES[f]) for f in RDF_OFFERS]),
                            content_type="text/html; charset=utf-8")
    else:
        response = Response(rdf_bytes(ONTOLOGY_PATH, chosen), content_type=RDF_OFFERS[chosen][0])
    response.headers["Vary"] = "Accept"
    return response


@ontology_page.get("/ontology/shapes")
def shapes() -> Response:
    accept, asked = request.headers.get("Accept"), request.args.get("format")
    fmt = "ttl" if prefers_html(accept) and not asked else negotiate(RDF_OFFERS, accept, asked)  # no HTML form
    response = Response(rdf_bytes(SHAPES_PATH, fmt), content_type=RDF_OFFERS[fmt][0])
    response.headers["Vary"] = "Accept"
    return response


def example_queries() -> list[dict[str, str]]:
    """The example queries in the reader's language, each with a link that opens it in the SPARQL editor
    (YASGUI reads `query` and `tabTitle` from the fragment, which never reaches the server)."""
    lang = current_language()
    found = []
    for key, text in EXAMPLES:
        title = t(f"ontology.example.{key}")
        query = text.replace("{lang}", lang)
        fragment = urlencode({"query": query, "tabTitle": title}, quote_via=quote)
        found.append({"key": key, "title": title, "query": query,
                      "editor": url_for("sparql.endpoint") + "#" + fragment})
    return found
