"""Minting stable, readable URIs for entities, graphs and source documents under one base."""

from __future__ import annotations

import re

from rdflib.term import URIRef

from kg.errors import KgError

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
NOT_IN_IRI = re.compile(r'[\x00-\x20\x7f<>"{}|^`\\]')  # RFC 3987: never in an IRI, escaped or not


class InvalidIri(KgError):
    """An IRI or id given in a request that cannot name anything: no scheme, or a character no IRI holds."""


def is_slug(value: str) -> bool:
    return bool(SLUG.match(value))


def checked_iri(value: str) -> str:
    """`value` when it can be an absolute IRI; InvalidIri saying what is wrong otherwise. Every IRI a
    request gives is checked here before any query sees it."""
    bad = NOT_IN_IRI.search(value)
    if bad:
        raise InvalidIri(f"not a valid IRI: {value!r} holds {_described(bad.group())} (at position {bad.start()}); "
                         "an IRI has no spaces, control characters or any of <>\"{}|^`\\")
    if not SCHEME.match(value):
        raise InvalidIri(f"not an absolute IRI: {value!r} (it starts with a scheme, such as https:)")
    return value


def _described(char: str) -> str:
    if char == " ":
        return "a space"
    return f"the character {char!r}" if char.isprintable() else f"the control character U+{ord(char):04X}"


def entity_iri(base: str, given: str) -> str:
    """The entity a request names by IRI (http or https, as it is) or by id under `base`
    (`programme/eccm`), checked by checked_iri."""
    return checked_iri(given if given.startswith(("http://", "https://")) else base + given.strip("/"))


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
