"""Error pages (web/error_pages.py): a browser gets an HTML page with the site's menu and a title in its language, with
the status and headers of the error; API and SPARQL clients keep application/problem+json."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kg.errors import StoreError
from kg.store import Store
from tests.support import HTML, TRACEBACK_SIGNS
from web.error_pages import PAGES
from web.messages import MESSAGES

MENU = {"nl": ("Voorstel matchen", "Bladeren", "Dashboard"), "en": ("Match a proposal", "Browse", "Dashboard")}


def title_of(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found
    return found.group(1).strip()


def assert_page(response, status: int, lang: str, heading: str) -> str:  # noqa: ANN001
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    menu = page.split('class="main-menu"', 1)[1].split("</nav>", 1)[0] if 'class="main-menu"' in page else \
        page.split("<header>", 1)[1].split("</header>", 1)[0]
    for item in MENU[lang]:
        assert f">{item}</a>" in menu, item
    assert f'<h1 id="error-heading">{heading}</h1>' in page
    assert title_of(page) == f"{heading} · Missiekompas"
    for sign in TRACEBACK_SIGNS:
        assert sign not in page
    return page


@pytest.mark.parametrize(("lang", "heading"), [("nl", "Pagina niet gevonden"), ("en", "Page not found")])
def test_a_browser_gets_an_html_404_with_the_menu(client: FlaskClient, lang: str, heading: str) -> None:
    response = client.get("/no/such/page", headers={"Accept": HTML, "Accept-Language": lang})
    assert_page(response, 404, lang, heading)
    assert "accept" in response.headers["Vary"].lower() and "accept-language" in response.headers["Vary"].lower()


def test_an_unknown_entity_is_an_html_404_naming_it(client: FlaskClient) -> None:
    response = client.get("/id/programme/no-such-thing", headers={"Accept": HTML, "Accept-Language": "nl"})
    page = assert_page(response, 404, "nl", "Pagina niet gevonden")
    assert "programme/no-such-thing" in page  # in the technical details


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", "text/turtle"])
def test_other_clients_keep_problem_json(client: FlaskClient, accept: str | None) -> None:
    headers = {"Accept": accept} if accept else {}
    for path in ("/no/such/page", "/api/entity?id=programme/no-such-thing", "/id/programme/no-such-thing"):
        response = client.get(path, headers=headers)
        assert response.status_code == 404 and response.mimetype == "application/problem+json", (path, accept)
        assert response.get_json(force=True)["status"] == 404


def test_the_api_answers_a_browser_with_a_page(client: FlaskClient) -> None:
    """A person opening a wrong API address in a browser reads a page; a program asking JSON reads problem+json."""
    assert client.get("/api/entity?id=programme/nope", headers={"Accept": HTML}).mimetype == "text/html"
    assert client.get("/api/entity?id=programme/nope",
                      headers={"Accept": "application/json"}).mimetype == "application/problem+json"


def test_a_405_page_names_the_allowed_methods(client: FlaskClient) -> None:
    response = client.post("/browse", headers={"Accept": HTML, "Accept-Language": "en"})
    assert_page(response, 405, "en", "Method not allowed")
    assert "GET" in response.headers["Allow"]
    assert client.post("/browse").mimetype == "application/problem+json"


def test_a_413_page_for_a_body_over_the_limit(make_app: Callable[..., Flask], tiny_store: Store) -> None:
    client = make_app(tiny_store, max_body_bytes=1000).test_client()
    response = client.post("/api/match", data=b"x" * 5000, content_type="application/json",
                           headers={"Accept": HTML, "Accept-Language": "nl"})
    page = assert_page(response, 413, "nl", "Te groot")
    assert "1000 bytes" in page
    plain = client.post("/api/match", data=b"x" * 5000, content_type="application/json")
    assert plain.status_code == 413 and plain.mimetype == "application/problem+json"


def test_a_400_page_shows_what_was_wrong(client: FlaskClient) -> None:
    response = client.get("/api/entity", headers={"Accept": HTML, "Accept-Language": "en"})
    page = assert_page(response, 400, "en", "Bad request")
    assert '<details class="error-detail" open>' in page and "give ?id=" in page


def test_a_500_page_says_nothing_of_the_error(app: Flask, client: FlaskClient) -> None:
    @app.route("/broken-for-test")
    def broken() -> str:
        raise RuntimeError("secret detail /srv/thing.py")

    response = client.get("/broken-for-test", headers={"Accept": HTML, "Accept-Language": "nl"})
    page = assert_page(response, 500, "nl", "Fout op de server")
    assert "secret detail" not in page


def test_a_503_page_when_the_store_is_down(app: Flask, client: FlaskClient) -> None:
    @app.route("/store-down-for-test")
    def down() -> str:
        raise StoreError("the store cannot be opened")

    assert_page(client.get("/store-down-for-test", headers={"Accept": HTML, "Accept-Language": "en"}), 503, "en",
                "Temporarily unavailable")


def test_a_format_parameter_keeps_the_machine_answer(client: FlaskClient) -> None:
    response = client.get("/id/programme/no-such-thing?format=ttl", headers={"Accept": HTML})
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_sparql_clients_keep_problem_json_and_a_browser_gets_a_page(client: FlaskClient) -> None:
    bad = {"query": "SELECT * WHERE {"}
    machine = client.get("/sparql", query_string=bad, headers={"Accept": "application/sparql-results+json"})
    assert machine.status_code == 400 and machine.mimetype == "application/problem+json"
    assert client.get("/sparql", query_string=bad).mimetype == "application/problem+json"
    browser = client.get("/sparql", query_string=bad, headers={"Accept": HTML, "Accept-Language": "nl"})
    assert_page(browser, 400, "nl", "Ongeldige vraag")
    refused = client.put("/sparql", headers={"Accept": HTML, "Accept-Language": "en"})
    assert_page(refused, 405, "en", "Method not allowed")
    assert "GET" in refused.headers["Allow"]


def test_every_error_page_has_its_words_in_both_languages() -> None:
    for status in PAGES:
        for part in ("title", "text"):
            assert set(MESSAGES[f"errorpage.{status}.{part}"]) == {"nl", "en"}, (status, part)
