"""HTML escaping everywhere data shows: hostile labels in the graph (a script, an attribute breakout, a template
expression) on entity pages, browse lists, the dashboard, the form and match results, and as plain data in the JSON
API; and a hostile proposal pasted into the match page, in its passage and its highlights."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from config import Settings
from kg.access import PUBLIC
from kg.build import build
from kg.store import MemoryStore
from tests.conftest import BASE, TINY, matcher_over
from tests.support import HTML, parse_html
from web.app import create_app

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
SVG = "'><svg onload=alert(1)>"
TEMPLATE = "{{7*7}}"
# What each looks like escaped by Jinja (markupsafe writes quotes as &#34; and &#39;); the template expression has
# nothing to escape and must come back as written, not evaluated.
ESCAPED = {SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;",
           IMG: "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;",
           SVG: "&#39;&gt;&lt;svg onload=alert(1)&gt;",
           TEMPLATE: TEMPLATE}
QUESTION = f"How can electricity be stored cheaply? {SCRIPT}"
PROPOSAL = (f"We store electricity cheaply in salt caverns and batteries. {SCRIPT} Our partner is {IMG} and the theme "
            f"is {SVG}, the cluster {TEMPLATE}. Storage of electricity for the energy transition."
            # a second, longer part: only a proposal of several passages shows its best passage per hit
            "\n\n" + " ".join(["Grid operators need flexible storage near wind farms and solar parks, and households"
                                " want batteries that last for many years without losing capacity."] * 6))


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found in {path.name}: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def yaml_single(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@pytest.fixture(scope="module")
def hostile_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny dataset with a hostile label on a programme, an organisation, a cluster, a theme and a question."""
    data = tmp_path_factory.mktemp("hostile") / "tiny"
    shutil.copytree(TINY, data)
    replace_in(data / "programmes.yaml", "label: Storage programme",
               f"label: {yaml_single(SCRIPT)}\n    description: {yaml_single(IMG + ' ' + SCRIPT)}")
    replace_in(data / "organisations.yaml", "label: Real Institute", f"label: {yaml_single(IMG)}")
    replace_in(data / "clusters.yaml", "label: {nl: Alfatechnologie, en: Alpha technology}",
               f"label: {{nl: {yaml_single(TEMPLATE)}, en: {yaml_single(TEMPLATE)}}}")
    replace_in(data / "themes.yaml", "label: {nl: Energie, en: Energy}",
               f"label: {{nl: {yaml_single(SVG)}, en: {yaml_single(SVG)}}}")
    replace_in(data / "questions.yaml", 'label: {en: "How can electricity be stored cheaply?"}',
               f"label: {{en: {yaml_single(QUESTION)}}}")
    return data


@pytest.fixture(scope="module")
def hostile_app(hostile_data: Path, search_settings: Settings,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    """The app over the hostile dataset, with search (its own small index) for the public."""
    settings = replace(search_settings, data_dirs=(hostile_data,),
                       index_path=tmp_path_factory.mktemp("hostile-index") / "index")
    store = MemoryStore()
    build(settings.data_dirs, settings.base_uri, store)
    yield create_app(settings, store=store, matchers={PUBLIC: matcher_over(settings, store, audience=PUBLIC)})


@pytest.fixture
def client(hostile_app: Flask) -> FlaskClient:
    return hostile_app.test_client()


def html_of(response: TestResponse) -> str:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def assert_inert(page: str, *shown: str) -> None:
    """No payload got into the markup: no event handler, no script but our own files, no <img src=x>, no raw payload;
    and each of `shown` is on the page, escaped (so the check is not vacuous)."""
    tags = parse_html(page)
    for tag, attrs in tags.tags:
        assert not [name for name in attrs if name.lower().startswith("on")], (tag, attrs)
        assert attrs.get("src") != "x", (tag, attrs)
        if tag == "script":
            assert (attrs.get("src") or "").startswith("/static/"), attrs
    for payload in (SCRIPT, IMG, SVG):
        assert payload not in page
    assert "<script>alert" not in page and "<img src=x" not in page and "<svg onload" not in page
    for payload in shown:
        assert ESCAPED[payload] in page, f"{payload!r} is not on the page, escaped"


# --- pages over hostile data --------------------------------------------------------------------

@pytest.mark.parametrize(("path", "shown"), [
    ("/id/programme/storage-mjp", (SCRIPT, IMG, SVG, TEMPLATE)),  # its label, description, lead, theme and cluster
    ("/id/organisation/real-institute", (IMG, SCRIPT)),  # and the programme it leads
    ("/id/cluster/alpha-tech", (TEMPLATE, SCRIPT)),
    ("/id/theme/energy", (SVG,)),
    ("/id/question/q-storage", (SCRIPT,)),
], ids=lambda value: value if isinstance(value, str) else None)
def test_entity_pages_escape_hostile_labels(client: FlaskClient, path: str, shown: tuple[str, ...]) -> None:
    for lang in ("nl", "en"):
        assert_inert(html_of(client.get(path, headers={"Accept": HTML, "Accept-Language": lang})), *shown)


def test_the_entity_page_title_holds_the_escaped_label(client: FlaskClient) -> None:
    page = html_of(client.get("/id/programme/storage-mjp", headers={"Accept": HTML}))
    assert page.count("</title>") == 1
    assert f"<title>{ESCAPED[SCRIPT]} · Missiekompas</title>" in page


@pytest.mark.parametrize(("name", "shown"), [
    ("programmes", (SCRIPT, IMG, SVG, TEMPLATE)),  # labels, the lead, and the theme and cluster facets
    ("organisations", (IMG,)),
    ("clusters", (TEMPLATE,)),
    ("themes", (SVG,)),
    ("questions", (SCRIPT, SVG, TEMPLATE)),
    ("missions", (SVG,)),
])
def test_browse_lists_escape_hostile_labels(client: FlaskClient, name: str, shown: tuple[str, ...]) -> None:
    assert_inert(html_of(client.get(f"/browse/{name}", headers={"Accept-Language": "en"})), *shown)


def test_browse_lists_filtered_by_a_hostile_value_escape_it(client: FlaskClient) -> None:
    page = html_of(client.get("/browse/programmes", query_string={"cluster": BASE + "cluster/alpha-tech",
                                                                   "theme": BASE + "theme/energy"}))
    assert_inert(page, SCRIPT, TEMPLATE, SVG)


def test_the_browse_index_is_inert(client: FlaskClient) -> None:
    assert_inert(html_of(client.get("/browse")))


def test_the_dashboard_escapes_hostile_labels(client: FlaskClient) -> None:
    for lang in ("nl", "en"):
        assert_inert(html_of(client.get("/dashboard", headers={"Accept-Language": lang})), TEMPLATE, SVG)


def test_the_match_form_escapes_hostile_filter_options(client: FlaskClient) -> None:
    assert_inert(html_of(client.get("/")), TEMPLATE, SVG)


# --- match results ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def results_page(hostile_app: Flask) -> str:
    response = hostile_app.test_client().post("/match", data={"text": PROPOSAL}, headers={"Accept-Language": "en"})
    return html_of(response)


def test_match_results_escape_hostile_labels_and_the_proposal(results_page: str) -> None:
    body = results_page.split("</head>", 1)[1]
    assert_inert(body, SCRIPT, IMG, SVG, TEMPLATE)
    assert 'href="/id/programme/storage-mjp"' in body  # the hostile programme is a hit, shown escaped


def test_the_passage_and_its_highlights_are_escaped(results_page: str) -> None:
    passages = [part.split("</blockquote>", 1)[0] for part in results_page.split("<blockquote>")[1:]]
    assert passages, "no passage on the results page"
    assert any(ESCAPED[SCRIPT] in passage for passage in passages)
    assert any("<mark>" in passage for passage in passages), "no highlighted concept"
    for passage in passages:
        assert_inert(passage)
        tags = {tag for tag, _ in parse_html(passage).tags}
        assert tags <= {"mark"}, f"markup other than <mark> in a passage: {tags}"


def test_a_hostile_concept_is_highlighted_as_text(results_page: str) -> None:
    # The programme's label is a concept, so the proposal's copy of it is marked: the mark holds escaped text.
    assert f"<mark>{ESCAPED[SCRIPT]}</mark>" in results_page


def test_the_refused_form_echoes_a_hostile_text_escaped(client: FlaskClient) -> None:
    response = client.post("/match", data={"text": PROPOSAL, "kind": "banana"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert_inert(page, SCRIPT, IMG, SVG, TEMPLATE)
    textarea = page.split('id="text"', 1)[1].split("</textarea>", 1)[0]
    assert ESCAPED[SCRIPT] in textarea


def test_a_hostile_filter_value_is_echoed_escaped(client: FlaskClient) -> None:
    response = client.post("/match", data={"text": "electricity storage", "kind": SCRIPT, "top": IMG},
                           headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert_inert(response.get_data(as_text=True), SCRIPT)


def test_a_hostile_file_name_is_echoed_escaped(client: FlaskClient) -> None:
    """The refusal names the file's type, taken from a name the client chose."""
    response = client.post("/match", data={"file": (io.BytesIO(b"text"), "proposal.<img src=x onerror=alert(1)>")},
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert response.status_code == 415
    page = response.get_data(as_text=True)
    assert_inert(page)
    assert "File type .&lt;img src=x onerror=alert(1)&gt; is not supported" in page


@pytest.mark.parametrize("path", ["/browse/" + SCRIPT, "/id/programme/" + IMG, "/dashboard/" + SCRIPT + ".csv"])
def test_a_hostile_path_is_refused_safely(client: FlaskClient, path: str) -> None:
    """An error page is inert HTML, or problem+json (data, never sniffed as HTML)."""
    response = client.get(path, headers={"Accept": HTML})
    assert response.status_code in (400, 404)
    if response.mimetype == "text/html":
        assert_inert(response.get_data(as_text=True))
    else:
        assert response.mimetype == "application/problem+json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.get_json(force=True)["detail"]


# --- the JSON API: data, not markup -------------------------------------------------------------

def json_of(response: TestResponse) -> object:
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    return response.get_json()


def test_the_api_returns_hostile_labels_as_they_are(client: FlaskClient) -> None:
    entity = json_of(client.get("/api/entity", query_string={"id": "programme/storage-mjp"}))
    assert entity["title"] == SCRIPT and SCRIPT in entity["labels"].values()
    assert entity["descriptions"] and all(IMG in text for text in entity["descriptions"].values())
    assert IMG in {link["label"] for link in entity["links"]}
    cluster = json_of(client.get("/api/entity", query_string={"iri": BASE + "cluster/alpha-tech"}))
    assert cluster["labels"] == {"nl": TEMPLATE, "en": TEMPLATE}


def test_the_api_never_escapes_for_html(client: FlaskClient) -> None:
    for response in (client.get("/api/entity", query_string={"id": "programme/storage-mjp"}),
                     client.get("/api/figures"),
                     client.post("/api/match", json={"text": PROPOSAL})):
        text = response.get_data(as_text=True)
        json_of(response)
        assert "&lt;" not in text and "&#34;" not in text and "&#39;" not in text


def test_a_match_over_hostile_data_returns_the_labels_as_data(client: FlaskClient) -> None:
    result = json_of(client.post("/api/match", json={"text": PROPOSAL}))
    programmes = {hit["iri"]: hit for hit in result["programmes"]}
    assert programmes[BASE + "programme/storage-mjp"]["label"] == SCRIPT
    assert SCRIPT in {concept["label"] for concept in result["concepts"]}
    assert {member["label"] for member in programmes[BASE + "programme/storage-mjp"]["members"]} == {IMG}
    search = json_of(client.get("/api/search", query_string={"q": SCRIPT}))
    assert search["query"] == SCRIPT


def test_an_api_error_about_hostile_input_is_problem_json(client: FlaskClient) -> None:
    response = client.get("/api/entity", query_string={"id": "programme/" + SCRIPT})
    assert response.status_code in (400, 404)
    assert response.mimetype == "application/problem+json"
    assert response.get_json(force=True)["detail"]
