"""The graph: data files -> RDF with provenance, validation, stores and named queries."""
