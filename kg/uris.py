"""Minting stable, readable URIs for entities, graphs and source documents under one base."""

from __future__ import annotations

import re

from rdflib.term import URIRef

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def is_slug(value: str) -> bool:
    return bool(SLUG.match(value))


def slugify(text: str) -> str:
    """Lowercase, ASCII letters and digits, words joined by '-'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def mint_uri(base: str, path: str, record_id: str) -> URIRef:
    return URIRef(f"{base}{path}/{record_id}")


def graph_uri(base: str, name: str) -> URIRef:
    return URIRef(f"{base}graph/{name}")


def dataset_uri(base: str) -> URIRef:
    return URIRef(f"{base}dataset")


def membership_uri(programme: URIRef, organisation_id: str) -> URIRef:
    return URIRef(f"{programme}/membership/{organisation_id}")


def source_uri(base: str, reference: str) -> URIRef:
    """An http(s) URL stays as it is; '<source-id>#<section>' points into a source document."""
    if reference.startswith(("http://", "https://")):
        return URIRef(reference)
    doc, _, section = reference.partition("#")
    uri = f"{base}source/{doc}"
    return URIRef(f"{uri}#{slugify(section)}" if section else uri)
