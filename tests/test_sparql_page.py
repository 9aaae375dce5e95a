"""The SPARQL editor page (web/sparql.py, web/templates/yasgui.html, web/static/sparql.js): its own text in the reader's
language, examples that list one row per entity (kg/queries/*.rq), and result links to this site's own /id/ pages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from playwright import sync_api

from kg.queries import EXAMPLES, example_queries, named_query
from kg.store import Store
from tests.conftest import BASE
from tests.support import HTML, Watch, watched_page
from web.messages import MESSAGES

MK = "https://w3id.org/missiekompas/ontology#"


@pytest.fixture
def client(default_app: Flask) -> FlaskClient:
    return default_app.test_client()


def editor_page(client: FlaskClient, lang: str) -> str:
    response = client.get("/sparql", headers={"Accept": HTML, "Accept-Language": lang})
    assert response.status_code == 200 and response.mimetype == "text/html"
    return response.get_data(as_text=True)


@pytest.mark.parametrize(("lang", "other"), [("nl", "en"), ("en", "nl")])
def test_the_page_speaks_the_readers_language(client: FlaskClient, lang: str, other: str) -> None:
    page = editor_page(client, lang)
    for key in ("sparql.heading", "sparql.intro", "sparql.examples", "sparql.noscript"):
        text = MESSAGES[key][lang].replace("'", "&#39;")
        assert text in page, key
        assert MESSAGES[key][other].replace("'", "&#39;") not in page, key
    for _, name in EXAMPLES:
        assert f">{MESSAGES[f'sparql.example.{name}'][lang].replace(chr(39), '&#39;')}</button>" in page, name


def test_the_page_names_the_base_and_where_its_entities_live(client: FlaskClient) -> None:
    page = editor_page(client, "en")
    assert f'data-base="{BASE}"' in page and 'data-local="/id/"' in page


def iri_rows(store: Store, query: str) -> Counter[tuple[str, ...]]:
    rows = store.view("public").select(query)
    assert rows, query[:200]
    return Counter(tuple(str(v) for _, v in sorted(r.items()) if str(v).startswith(("http://", "https://")))
                   for r in rows)


@pytest.mark.parametrize("name", [name for _, name in EXAMPLES if "fn:" not in named_query(name)])
def test_every_example_lists_each_entity_once(default_store: Store, name: str) -> None:
    """Not once per language of its label (the examples that call fn: need the search service and are run in
    tests/test_sparql_functions.py)."""
    counted = iri_rows(default_store, named_query(name))
    assert [key for key, n in counted.items() if n > 1] == []


def test_missions_without_a_programme_are_each_listed_once_with_a_label(default_store: Store) -> None:
    rows = default_store.view("public").select(named_query("missions_without_programme"))
    missions = [str(r["mission"]) for r in rows]
    assert missions and len(missions) == len(set(missions))
    assert all(r.get("label") for r in rows)
    linked = {str(r["m"]) for r in default_store.view("public").select(
        f"PREFIX mk: <{MK}> SELECT DISTINCT ?m WHERE {{ {{ ?p mk:contributesToMission ?m }} UNION "
        "{ ?p mk:contributesToMMIP/mk:servesMission ?m } }")}
    every = {str(r["m"]) for r in default_store.view("public").select(f"PREFIX mk: <{MK}> SELECT ?m WHERE {{ ?m a mk:Mission }}")}
    assert set(missions) == every - linked


def test_the_examples_carry_their_names(client: FlaskClient) -> None:
    assert [e["name"] for e in example_queries()] == [name for _, name in EXAMPLES]


# --- in a browser: result links open this site's own pages ----------------------------------------------------------

@pytest.fixture
def page(browser: sync_api.Browser, server: str) -> Iterator[tuple[sync_api.Page, Watch]]:
    yield from watched_page(browser, server, viewport={"width": 1280, "height": 1000})


@pytest.mark.slow
def test_result_links_point_to_our_own_entity_pages(page: tuple[sync_api.Page, Watch], server: str) -> None:
    page_, watch = page
    page_.goto(f"{server}/sparql?lang=nl", wait_until="load")
    page_.wait_for_function("() => window.missiekompasYasgui && window.missiekompasYasgui.getTab()")
    index = [name for _, name in EXAMPLES].index("missions_without_programme")
    page_.locator(f'button[data-example="{index}"]').click()
    page_.wait_for_function("() => document.querySelectorAll('#yasgui .yasr table.dataTable tbody a.iri').length > 0")
    hrefs = page_.locator("#yasgui .yasr table.dataTable tbody a.iri").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    assert hrefs and all(h.startswith("/id/mission/") for h in hrefs), hrefs
    assert len(hrefs) == len(set(hrefs))  # one row per mission
    response = page_.request.get(f"{server}{hrefs[0]}", headers={"Accept": "text/html"})
    assert response.status == 200
    assert watch.console_errors == [], watch.console_errors
