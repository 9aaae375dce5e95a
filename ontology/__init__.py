"""What exists: the Missiekompas OWL ontology, its SHACL shapes and the typed namespace."""

from __future__ import annotations

from pathlib import Path

from ontology.namespace import MK, PREFIXES

ONTOLOGY_PATH = Path(__file__).with_name("missiekompas.ttl")
SHAPES_PATH = Path(__file__).with_name("shapes.ttl")
ONTOLOGY_IRI = "https://w3id.org/missiekompas/ontology"

__all__ = ["MK", "ONTOLOGY_IRI", "ONTOLOGY_PATH", "PREFIXES", "SHAPES_PATH"]
