"""The match page (web/match_page.py): the form, a plain POST that returns results with explanations,
downloads, and every kind of bad input answered on the page with a clear message and the right status."""

from __future__ import annotations

import csv
import io
import json
import re

import docx
import pytest
from flask import Flask
from flask.testing import FlaskClient

from search.readers import MAX_TEXT_CHARS
from tests.conftest import BASE
from tests.support import PROPOSAL_NL, TRACEBACK_SIGNS, alert, assert_no_injected_markup, make_pdf, parse_html


@pytest.fixture
def client(search_app: Flask) -> FlaskClient:
    return search_app.test_client()


@pytest.fixture(scope="module")
def results_page(search_app: Flask) -> str:
    response = search_app.test_client().post("/match", data={"text": PROPOSAL_NL},
                                             headers={"Accept-Language": "nl"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def section(page: str, name: str) -> str:
    start = page.index(f'<section id="section-{name}"')
    return page[start:page.index("</section>", start)]


# --- the form -----------------------------------------------------------------------------------

def test_home_explains_and_offers_the_form(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Where does your research proposal fit" in page
    tags = parse_html(page)
    form = next(attrs for tag, attrs in tags.tags if tag == "form" and attrs.get("id") == "match-form")
    assert form["method"] == "post" and form["enctype"] == "multipart/form-data"
    assert form["action"].startswith("/match")
    ids = {attrs.get("id") for tag, attrs in tags.tags if tag in ("textarea", "input", "select")}
    labelled = {attrs.get("for") for tag, attrs in tags.tags if tag == "label"}
    assert {"text", "file", "filter-cluster", "filter-theme", "filter-mission", "top"} <= ids & labelled


def test_home_has_its_script_only_as_a_file(client: FlaskClient) -> None:
    tags = parse_html(client.get("/").get_data(as_text=True))
    assert [attrs.get("src") for attrs, _ in tags.scripts] == ["/static/match.js"]
    assert all(text.strip() == "" for _, text in tags.scripts)
    assert client.get("/static/match.js").status_code == 200


def test_home_filters_list_every_cluster_theme_and_mission(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    for facet, count in (("cluster", 8), ("theme", 9)):
        select = page.split(f'id="filter-{facet}"', 1)[1].split("</select>", 1)[0]
        assert select.count("<option") == count + 1  # and "(any)"


def test_a_get_of_match_goes_back_to_the_form(client: FlaskClient) -> None:
    response = client.get("/match")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/")


# --- results ------------------------------------------------------------------------------------

def test_a_dutch_proposal_finds_questions_and_programmes(results_page: str) -> None:
    assert re.search(r'<section id="section-questions".*?<li class="hit">', results_page, re.S)
    programmes = section(results_page, "programmes")
    assert 'href="/id/programme/photondelta"' in programmes
    assert "Taal van het voorstel: Nederlands" in results_page


def test_programme_hits_name_and_link_their_lead_and_partners(results_page: str) -> None:
    programmes = section(results_page, "programmes")
    card = programmes.split('<h4><a href="/id/programme/photondelta"', 1)[1].split("</li>", 1)[0]
    assert re.search(r'<dt>Penvoerder</dt><dd><a href="/id/organisation/stichting-photondelta">Stichting PhotonDelta</a>', card)
    assert re.search(r'<dt>Partners</dt><dd><a href="/id/organisation/[a-z0-9-]+">', card)


def test_every_hit_explains_itself(results_page: str) -> None:
    cards = re.findall(r'<li class="hit">(.*?)</li>\s*(?=<li class="hit">|</ol>)', results_page, re.S)
    assert len(cards) >= 10
    for card in cards:
        assert "Best passende passage uit uw voorstel" not in card  # the proposal is one passage: not repeated
        assert re.search(r"score \d\.\d{4} · betekenis", card)


def test_shared_concepts_are_named_with_the_words_that_matched(results_page: str) -> None:
    programmes = section(results_page, "programmes")
    card = programmes.split('<h4><a href="/id/programme/photondelta"', 1)[1].split("</li>", 1)[0]
    assert "Gedeelde begrippen" in card
    assert "<mark>fotonische chips</mark>" in card


def test_a_proposal_of_several_passages_shows_the_best_one_marked(client: FlaskClient) -> None:
    text = (PROPOSAL_NL + "\n\nHet tweede werkpakket ontwerpt de fotonische chips zelf: golfgeleiders in "
            "siliciumnitride, lasers en detectoren op één chip, getest in een cleanroom samen met een foundry in "
            "Eindhoven, zodat de sensoren in grote aantallen gemaakt kunnen worden.")
    page = client.post("/match", data={"text": text, "top": "3"}, headers={"Accept-Language": "nl"}).get_data(as_text=True)
    card = section(page, "programmes").split('<h4><a href="/id/programme/photondelta"', 1)[1].split("</li>", 1)[0]
    passage = card.split('<figure class="passage">', 1)[1].split("</figure>", 1)[0]
    assert "Best passende passage uit uw voorstel" in passage and "<mark>fotonische chips</mark>" in passage


def test_sample_hits_carry_the_sample_mark(results_page: str) -> None:
    programmes = section(results_page, "programmes")
    assert re.search(r'href="/id/programme/sample-mjp-\d+">[^<]+</a> <span class="kind">[^<]+</span> '
                     r'<span class="sample"[^>]*>voorbeeld</span>', programmes)
    assert "Voorbeeldrecords zijn illustratief" in results_page


def test_clusters_and_themes_are_suggested(results_page: str) -> None:
    suggestions = section(results_page, "suggestions")
    assert suggestions.count("/id/cluster/") >= 3 and suggestions.count("/id/theme/") >= 3
    assert "Fotonica en lichttechnologieën" in suggestions


def test_the_form_comes_back_filled_in(results_page: str) -> None:
    textarea = results_page.split('<textarea id="text"', 1)[1].split("</textarea>", 1)[0]
    assert "fotonische chips" in textarea


def test_a_kind_filter_keeps_only_that_kind(client: FlaskClient) -> None:
    page = client.post("/match", data={"text": PROPOSAL_NL, "kind": "programme", "top": "3"}).get_data(as_text=True)
    assert section(page, "programmes").count('<li class="hit">') == 3
    for other in ("questions", "missions", "kem_categories"):
        assert '<li class="hit">' not in section(page, other)
    assert re.search(r'<input type="checkbox" name="kind" value="programme" checked>', page)


def test_a_cluster_filter_keeps_only_hits_in_that_cluster(client: FlaskClient) -> None:
    page = client.post("/match", data={"text": PROPOSAL_NL, "cluster": "quantum-technologies", "kind": "programme"})
    programmes = section(page.get_data(as_text=True), "programmes")
    assert '<h4><a href="/id/programme/photondelta"' not in programmes  # not in the quantum cluster
    assert f'value="{BASE}cluster/quantum-technologies" selected' in page.get_data(as_text=True)


def test_an_uploaded_docx_is_matched(client: FlaskClient) -> None:
    document = docx.Document()
    for line in PROPOSAL_NL.split(". "):
        document.add_paragraph(line)
    body = io.BytesIO()
    document.save(body)
    body.seek(0)
    response = client.post("/match", data={"file": (body, "voorstel.docx")}, content_type="multipart/form-data")
    assert response.status_code == 200
    assert 'href="/id/programme/photondelta"' in section(response.get_data(as_text=True), "programmes")


def test_an_uploaded_pdf_is_matched(client: FlaskClient, tmp_path) -> None:  # noqa: ANN001
    pdf = make_pdf(tmp_path / "p.pdf", b"BT /F1 12 Tf 72 720 Td (Groene waterstof en elektrolyse voor de industrie.) Tj ET")
    response = client.post("/match", data={"file": (io.BytesIO(pdf.read_bytes()), "plan.PDF")},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    assert "Groene waterstof" in response.get_data(as_text=True)


def test_markup_in_a_proposal_stays_text(client: FlaskClient) -> None:
    hostile = PROPOSAL_NL + ' <script>alert(1)</script> "><img src=x onerror=alert(2)>'
    page = client.post("/match", data={"text": hostile}).get_data(as_text=True)
    body = page.split("</head>", 1)[1]
    assert_no_injected_markup(body)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


# --- downloads ----------------------------------------------------------------------------------

def test_results_download_as_csv(client: FlaskClient) -> None:
    response = client.post("/match", data={"text": PROPOSAL_NL, "top": "4", "format": "csv"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="missiekompas-match.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["section"] for r in rows} == {"questions", "programmes", "missions", "kem_categories", "clusters", "themes"}
    photondelta = next(r for r in rows if r["iri"] == BASE + "programme/photondelta")
    assert photondelta["lead"] == "Stichting PhotonDelta" and photondelta["partners"]
    assert "PhotonDelta" in photondelta["shared_concepts"]
    assert photondelta["passage"] == ""  # the proposal is one passage


def test_results_download_as_json(client: FlaskClient) -> None:
    response = client.post("/match", data={"text": PROPOSAL_NL, "top": "4", "format": "json"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    result = json.loads(response.get_data())
    assert len(result["programmes"]) == 4 and result["language"] == "nl"
    assert result["samples_note"] is None or "illustrative" in result["samples_note"]


def test_the_results_page_offers_both_downloads(results_page: str) -> None:
    form = results_page.split('<form class="downloads"', 1)[1].split("</form>", 1)[0]
    assert 'name="format" value="csv"' in form and 'name="format" value="json"' in form
    assert 'type="hidden" name="text"' in form


# --- bad input ----------------------------------------------------------------------------------

def assert_refused(response, status: int, *needles: str) -> str:  # noqa: ANN001
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[:300]
    assert response.mimetype == "text/html"
    message = alert(page)
    for needle in needles:
        assert needle in message, message
    for sign in TRACEBACK_SIGNS:
        assert sign not in page
    return message


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_empty_text_is_400_with_a_message(client: FlaskClient, text: str) -> None:
    assert_refused(client.post("/match", data={"text": text}, headers={"Accept-Language": "en"}), 400,
                   "The text is empty")


def test_empty_text_message_in_dutch(client: FlaskClient) -> None:
    assert_refused(client.post("/match", data={"text": ""}, headers={"Accept-Language": "nl"}), 400, "De tekst is leeg")


def test_text_over_the_character_limit_is_413(client: FlaskClient) -> None:
    message = assert_refused(client.post("/match", data={"text": "woord " * (MAX_TEXT_CHARS // 5)},
                                         headers={"Accept-Language": "en"}), 413, "too long", "200,000")
    assert "characters" in message


def test_a_body_over_the_size_limit_is_413_on_the_page(client: FlaskClient, search_app: Flask) -> None:
    limit = search_app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/match", data={"file": (io.BytesIO(b"a" * (limit + 10)), "big.txt")},
                           content_type="multipart/form-data", headers={"Accept-Language": "en"})
    assert_refused(response, 413, "larger than the limit of 1.0 MB")


@pytest.mark.parametrize("name", ["proposal.exe", "proposal.odt", "proposal"])
def test_a_wrong_file_type_is_415_naming_the_types(client: FlaskClient, name: str) -> None:
    response = client.post("/match", data={"file": (io.BytesIO(b"text"), name)}, content_type="multipart/form-data",
                           headers={"Accept-Language": "en"})
    assert_refused(response, 415, "is not supported", ".txt, .md, .pdf, .docx")


def test_a_damaged_file_is_400_with_the_readers_reason(client: FlaskClient) -> None:
    response = client.post("/match", data={"file": (io.BytesIO(b"not a zip"), "p.docx")}, content_type="multipart/form-data",
                           headers={"Accept-Language": "en"})
    assert_refused(response, 400, "cannot be read", "not a Word document")


def test_a_bad_filter_value_is_400(client: FlaskClient) -> None:
    response = client.post("/match", data={"text": PROPOSAL_NL, "kind": "banana"}, headers={"Accept-Language": "en"})
    assert_refused(response, 400, "banana", "question, programme")
    response = client.post("/match", data={"text": PROPOSAL_NL, "top": "500"}, headers={"Accept-Language": "en"})
    assert_refused(response, 400, "top", "1-50")


def test_a_refused_form_keeps_what_was_typed(client: FlaskClient) -> None:
    page = client.post("/match", data={"text": "abc", "top": "0", "kind": "question"}).get_data(as_text=True)
    assert ">abc</textarea>" in page
