"""A results page keeps its state (web/templates/match.html): the language switch sends the same text, filters and
consortium again (the form "again"), so the other language shows the same results; an upload's extracted text goes
along instead of the file."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import BASE
from tests.support import PROPOSAL_NL, parse_html

CLUSTER = BASE + "cluster/photonics-light-technologies"


@pytest.fixture
def client(search_app: Flask) -> FlaskClient:
    return search_app.test_client()


def again_fields(page: str) -> list[tuple[str, str]]:
    """The (name, value) pairs the form "again" sends."""
    start = page.index('id="again"')
    form = page[start:page.index("</form>", start)]
    return [(str(attrs["name"]), str(attrs.get("value") or "")) for tag, attrs in parse_html(form).tags
            if tag == "input" and attrs.get("type") == "hidden"]


def switch_to(page: str, code: str) -> str:
    """The address the header's button for language `code` posts the form "again" to."""
    switch = page.split('class="languages"', 1)[1].split("</nav>", 1)[0]
    button = next(attrs for tag, attrs in parse_html(switch).tags if tag == "button" and attrs.get("lang") == code)
    assert button["form"] == "again" and button["type"] == "submit"
    return str(button["formaction"])


def hits(page: str, section: str) -> list[str]:
    start = page.index(f'<section id="section-{section}"')
    return re.findall(r'<h4><a href="(/id/[^"]+)"', page[start:page.index("</section>", start)])


def lang_of(page: str) -> str:
    found = re.search(r'<html lang="(\w+)">', page)
    assert found
    return found.group(1)


def test_the_language_switch_carries_the_text_filters_and_consortium(client: FlaskClient) -> None:
    asked = {"text": PROPOSAL_NL, "kind": ["programme", "question"], "cluster": CLUSTER, "top": "5",
             "samples": "exclude", "have": "TNO\nPhotonDelta"}
    page = client.post("/match", data=asked, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert lang_of(page) == "nl"
    fields = again_fields(page)
    assert ("text", PROPOSAL_NL) in fields
    assert {v for n, v in fields if n == "kind"} == {"programme", "question"}
    assert ("cluster", CLUSTER) in fields and ("top", "5") in fields and ("samples", "exclude") in fields
    assert [v for n, v in fields if n == "have"] == ["TNO", "PhotonDelta"]
    assert switch_to(page, "en") == "/match?lang=en#results"
    assert 'class="current" lang="nl" aria-current="true">Nederlands</span>' in page  # no button for this language


def test_posting_the_switch_shows_the_same_results_in_the_other_language(client: FlaskClient) -> None:
    dutch = client.post("/match", data={"text": PROPOSAL_NL, "cluster": CLUSTER, "kind": ["programme", "question"]},
                        headers={"Accept-Language": "nl"}).get_data(as_text=True)
    target = switch_to(dutch, "en").removesuffix("#results")
    data: dict[str, list[str]] = {}
    for name, value in again_fields(dutch):
        data.setdefault(name, []).append(value)
    response = client.post(target, data=data, content_type="multipart/form-data", headers={"Accept-Language": "nl"})
    assert response.status_code == 200
    english = response.get_data(as_text=True)
    assert lang_of(english) == "en" and "Results" in english
    assert response.headers["Set-Cookie"].startswith("mk_lang=en;")  # the choice is remembered, as a link's is
    for section in ("questions", "programmes"):
        assert hits(english, section) == hits(dutch, section) != []
    # the form next to the results is filled in as it was: the text and the filters
    textarea = english.split('<textarea id="text"', 1)[1].split("</textarea>", 1)[0]
    assert "fotonische chips" in textarea
    assert f'value="{CLUSTER}" selected' in english
    assert '<input type="checkbox" name="kind" value="programme" checked>' in english
    assert switch_to(english, "nl") == "/match?lang=nl#results"


def test_an_uploaded_file_goes_again_as_its_extracted_text(client: FlaskClient) -> None:
    upload = io.BytesIO(PROPOSAL_NL.encode())
    page = client.post("/match", data={"file": (upload, "voorstel.txt")}, content_type="multipart/form-data",
                       headers={"Accept-Language": "en"}).get_data(as_text=True)
    text = [v for n, v in again_fields(page) if n == "text"]
    assert len(text) == 1 and "fotonische chips" in text[0]
    assert switch_to(page, "nl") == "/match?lang=nl#results"


def test_pages_without_results_keep_plain_language_links(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    switch = page.split('class="languages"', 1)[1].split("</nav>", 1)[0]
    assert '<a href="/?lang=nl" lang="nl" hreflang="nl">Nederlands</a>' in switch and "<button" not in switch
