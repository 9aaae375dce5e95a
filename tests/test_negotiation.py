"""Content negotiation (web.negotiation): q-values, server order on ties, wildcards, `format`, and 406."""

from __future__ import annotations

import pytest

from web.errors import NotAcceptableFormat
from web.negotiation import GRAPH_OFFERS, RESULTS_OFFERS, negotiate, prefers_html

ENTITY = {k: GRAPH_OFFERS[k] for k in ("ttl", "jsonld", "nt", "rdfxml")}
FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
          "application/signed-exchange;v=b3;q=0.7")


# --- the Accept header --------------------------------------------------------------------------

@pytest.mark.parametrize(("accept", "expected"), [
    ("text/turtle", "ttl"),
    ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"),
    ("application/rdf+xml", "rdfxml"),
    ("application/x-turtle", "ttl"),  # a secondary media type selects its format too
])
def test_each_media_type_selects_its_format(accept: str, expected: str) -> None:
    assert negotiate(ENTITY, accept, None) == expected


def test_highest_q_value_wins_over_server_order() -> None:
    assert negotiate(ENTITY, "text/turtle;q=0.8, application/n-triples;q=0.9", None) == "nt"


def test_higher_q_value_wins_in_any_position() -> None:
    assert negotiate(ENTITY, "application/rdf+xml;q=1.0, text/turtle;q=0.2, application/ld+json;q=0.5", None) == "rdfxml"


def test_tie_goes_to_server_order_not_header_order() -> None:
    assert negotiate(ENTITY, "application/rdf+xml, application/ld+json", None) == "jsonld"
    assert negotiate(ENTITY, "application/n-triples;q=0.5, text/turtle;q=0.5", None) == "ttl"


def test_q_zero_refuses_a_type() -> None:
    assert negotiate(ENTITY, "text/turtle;q=0, application/ld+json;q=0.1", None) == "jsonld"


def test_star_star_gives_the_first_offer() -> None:
    assert negotiate(ENTITY, "*/*", None) == "ttl"
    assert negotiate(RESULTS_OFFERS, "*/*", None) == "json"


def test_no_or_empty_accept_gives_the_first_offer() -> None:
    assert negotiate(ENTITY, None, None) == "ttl"
    assert negotiate(ENTITY, "", None) == "ttl"


def test_type_wildcard_matches_within_its_type() -> None:
    assert negotiate(ENTITY, "text/*", None) == "ttl"
    # XML is sent as application/sparql-results+xml, which text/* does not cover; CSV is sent as text/csv
    assert negotiate(RESULTS_OFFERS, "text/*", None) == "csv"


def test_type_wildcard_never_picks_a_format_sent_outside_that_type() -> None:
    """`application/*` only: Turtle is sent as text/turtle, which the client did not accept."""
    chosen = negotiate(ENTITY, "application/*", None)
    assert ENTITY[chosen][0].startswith("application/"), f"chose {chosen!r}, sent as {ENTITY[chosen][0]}"


def test_specific_type_beats_a_higher_wildcard_only_by_its_own_q() -> None:
    # text/turtle is named at 0.1, which overrides text/* for it; n-triples is sent as
    # application/n-triples, which text/* does not cover. So Turtle at 0.1 is the only choice.
    assert negotiate(ENTITY, "text/*;q=0.9, text/turtle;q=0.1", None) == "ttl"


def test_wildcard_does_not_override_an_explicit_refusal() -> None:
    """`*/*` with `text/turtle;q=0`: the client refuses Turtle, so the answer must not be Turtle."""
    chosen = negotiate(ENTITY, "*/*, text/turtle;q=0", None)
    assert ENTITY[chosen][0] != "text/turtle", f"chose {chosen!r}, which is sent as text/turtle"


def test_wildcard_does_not_lift_a_low_q_value() -> None:
    """Turtle at 0.1, anything else at 0.5: the client prefers anything over Turtle."""
    chosen = negotiate(ENTITY, "text/turtle;q=0.1, */*;q=0.5", None)
    assert chosen == "jsonld"


def test_media_types_are_case_insensitive() -> None:
    assert negotiate(ENTITY, "APPLICATION/LD+JSON", None) == "jsonld"


@pytest.mark.parametrize("accept", ["image/png", "text/html", "image/png, */*;q=0", "text/turtle;q=0"])
def test_nothing_acceptable_raises(accept: str) -> None:
    with pytest.raises(NotAcceptableFormat):
        negotiate(ENTITY, accept, None)


def test_not_acceptable_message_lists_the_available_media_types() -> None:
    with pytest.raises(NotAcceptableFormat) as caught:
        negotiate(ENTITY, "image/png", None)
    message = str(caught.value)
    assert "image/png" in message
    for media_type in ("text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml"):
        assert media_type in message


def test_not_acceptable_message_for_results_lists_results_types() -> None:
    with pytest.raises(NotAcceptableFormat) as caught:
        negotiate(RESULTS_OFFERS, "text/turtle", None)
    message = str(caught.value)
    for media_type in ("application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                       "text/tab-separated-values"):
        assert media_type in message


# --- the format parameter -----------------------------------------------------------------------

@pytest.mark.parametrize(("fmt", "expected"), [
    ("ttl", "ttl"), ("TTL", "ttl"), ("turtle", "ttl"), ("jsonld", "jsonld"), ("json-ld", "jsonld"),
    ("nt", "nt"), ("n-triples", "nt"), ("ntriples", "nt"), ("rdfxml", "rdfxml"), ("rdf", "rdfxml"),
])
def test_format_names_and_aliases(fmt: str, expected: str) -> None:
    assert negotiate(ENTITY, None, fmt) == expected


@pytest.mark.parametrize(("fmt", "expected"), [
    ("text/turtle", "ttl"), ("application/x-turtle", "ttl"), ("application/ld+json", "jsonld"),
    ("application/n-triples", "nt"), ("application/rdf+xml", "rdfxml"), ("text/turtle; charset=utf-8", "ttl"),
])
def test_format_as_media_type(fmt: str, expected: str) -> None:
    assert negotiate(ENTITY, None, fmt) == expected


def test_format_wins_over_accept() -> None:
    assert negotiate(ENTITY, "application/ld+json", "nt") == "nt"
    assert negotiate(ENTITY, "image/png", "ttl") == "ttl"  # even over an Accept we could not answer


def test_results_format_names() -> None:
    assert negotiate(RESULTS_OFFERS, "application/sparql-results+json", "csv") == "csv"
    assert negotiate(RESULTS_OFFERS, None, "text/tab-separated-values") == "tsv"


@pytest.mark.parametrize("fmt", ["xyz", "trig", "image/png", "csv"])
def test_unknown_or_unoffered_format_raises_with_the_choices(fmt: str) -> None:
    with pytest.raises(NotAcceptableFormat) as caught:
        negotiate(ENTITY, "text/turtle", fmt)
    message = str(caught.value)
    assert repr(fmt) in message
    for name in ENTITY:
        assert name in message


# --- prefers_html -------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", [FIREFOX, CHROME, "text/html", "text/html, */*;q=0.1",
                                    "text/html;q=0.9, text/turtle;q=0.9"])
def test_browsers_get_html(accept: str) -> None:
    assert prefers_html(accept) is True


@pytest.mark.parametrize("accept", [
    "application/sparql-results+json", "*/*", "text/*", None, "", "text/turtle",
    "text/turtle, text/html;q=0.5", "text/html;q=0", "application/json, text/javascript, */*; q=0.01",
])
def test_machines_do_not_get_html(accept: str | None) -> None:
    assert prefers_html(accept) is False


def test_explicitly_refused_html_is_not_preferred_even_with_a_wildcard() -> None:
    """`text/html;q=0, */*`: the client says it does not want HTML."""
    assert prefers_html("text/html;q=0, */*") is False


def test_html_at_low_q_loses_to_a_preferred_rdf_type_even_with_a_wildcard() -> None:
    """HTML at 0.1, Turtle at 0.5: the client prefers Turtle."""
    assert prefers_html("*/*;q=0.9, text/html;q=0.1, text/turtle;q=0.5") is False


def test_prefers_html_is_case_insensitive() -> None:
    """Media type names are case-insensitive (RFC 9110, 8.3.1)."""
    assert prefers_html("TEXT/HTML") is True
