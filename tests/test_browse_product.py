"""Browse lists as a product (kg/listing.py, web/browse.py, web/browse_view.py): a text search, sortable columns,
multi-select facets in one form with the text and sort, active filters as removable chips, a facet order that does not
move, empty facets hidden, the KEM categories, and column headings that say what they count."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from playwright import sync_api

from config import REPO_ROOT
from kg.listing import UnknownSort, list_entities
from kg.store import Store
from tests.conftest import BASE
from tests.support import HTML, Watch, parse_html, watched_page

QUESTIONS_DIGITAL, QUESTIONS_QUANTUM = BASE + "cluster/digital-technologies", BASE + "cluster/quantum-technologies"


@pytest.fixture
def client(default_app: Flask) -> FlaskClient:
    return default_app.test_client()


def page_of(client: FlaskClient, path: str, lang: str = "en") -> str:
    response = client.get(path, headers={"Accept-Language": lang, "Accept": HTML})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return response.get_data(as_text=True)


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def names(page: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", re.findall(r'<th scope="row">(.*?)</th>', row, re.S)[0])).strip()
            for row in rows(page)]


def numbers(page: str, column: int) -> list[int]:
    """The values of the `column`-th number column of every row."""
    return [int(re.findall(r'<td class="num">(\d+)</td>', row)[column]) for row in rows(page)]


def options(page: str, facet: str) -> list[str]:
    """The option values of one facet, in the order the sidebar shows them."""
    return [str(attrs["value"]) for tag, attrs in parse_html(page).tags
            if tag == "input" and attrs.get("type") == "checkbox" and attrs.get("name") == facet]


def chips(page: str) -> dict[str, dict[str, list[str]]]:
    """Each chip's text -> the query of the page its remove link opens."""
    found = re.findall(r'<li class="chip">(.*?)\s*<a href="([^"]+)"', page, re.S)
    return {html.unescape(" ".join(text.split())): parse_qs(urlsplit(html.unescape(url)).query) for text, url in found}


def headings(page: str) -> list[str]:
    header = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    return [html.unescape(re.sub(r"<[^>]+>", "", h)) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', header)]


# --- text search ---------------------------------------------------------------------------------------------------

def test_the_text_search_keeps_the_items_whose_name_holds_every_word(client: FlaskClient) -> None:
    page = page_of(client, "/browse/organisations?q=universiteit+amsterdam", "nl")
    found = names(page)
    assert found and all("universiteit" in n.casefold() and "amsterdam" in n.casefold() for n in found)
    assert len(found) < len(names(page_of(client, "/browse/organisations", "nl")))
    assert '<input type="search" id="q" name="q" value="universiteit amsterdam">' in page
    assert re.search(r'<label for="q">Zoeken in deze lijst</label>', page)


def test_the_search_ignores_case_and_accents_and_searches_both_languages(client: FlaskClient) -> None:
    page = page_of(client, "/browse/clusters?q=LICHTTECHNOLOGIEEN", "en")  # the Dutch name has "lichttechnologieën"
    assert names(page) == ["Photonics and Light Technologies"]
    assert "/id/cluster/photonics-light-technologies" in rows(page)[0]


def test_facet_counts_follow_the_search(client: FlaskClient, default_store: Store) -> None:
    listing = list_entities(default_store.view("public"), "questions", text="data")
    assert 0 < len(listing.items) < listing.total
    for facet in listing.facets:
        for option in facet.options:
            assert option.count == sum(1 for i in listing.items if i.has_any(facet.name, [option.ref.value]))


def test_a_search_that_finds_nothing_says_so(client: FlaskClient) -> None:
    page = page_of(client, "/browse/missions?q=zzzqqq")
    assert rows(page) and "Nothing matches these filters." in page and re.search(r"0 of \d+", page)


# --- sorting ---------------------------------------------------------------------------------------------------------

def test_missions_sort_by_number_of_programmes_fewest_first_then_most(client: FlaskClient) -> None:
    """Programmes is the first count column of the missions list: sorted ascending, the blank spots come first."""
    plain = page_of(client, "/browse/missions")
    up = page_of(client, "/browse/missions?sort=programme")
    down = page_of(client, "/browse/missions?sort=-programme")
    assert numbers(up, 0) == sorted(numbers(plain, 0)) and numbers(up, 0)[0] == 0
    assert numbers(down, 0) == sorted(numbers(plain, 0), reverse=True) and numbers(down, 0)[0] > 0
    assert sorted(names(up)) == sorted(names(plain))  # the same missions, another order
    zero = [n for n, c in zip(names(up), numbers(up, 0), strict=True) if c == 0]
    assert zero == sorted(zero, key=str.casefold)  # within a tie, by name


def test_column_headings_link_to_their_sort_and_say_which_applies(client: FlaskClient) -> None:
    plain = page_of(client, "/browse/missions?theme=" + BASE + "theme/energie-duurzaamheid")
    assert re.search(r'<th scope="col" aria-sort="ascending"><a href="[^"]*">Name</a>', plain)  # by name at first
    link = re.search(r'<th scope="col" class="num"><a href="([^"]+)">Programmes</a>', plain)
    assert link
    query = parse_qs(urlsplit(html.unescape(link.group(1))).query)
    assert query["sort"] == ["programme"] and query["theme"] == [BASE + "theme/energie-duurzaamheid"]  # filters stay
    sorted_page = page_of(client, "/browse/missions?sort=programme")
    again = re.search(r'<th scope="col" class="num" aria-sort="ascending"><a href="([^"]+)">Programmes</a>', sorted_page)
    assert again and parse_qs(urlsplit(html.unescape(again.group(1))).query)["sort"] == ["-programme"]
    assert '<input type="hidden" name="sort" value="programme">' in sorted_page  # the filter form keeps the sort


def test_a_value_column_sorts_by_its_labels_with_empty_cells_last(default_store: Store) -> None:
    items = list_entities(default_store.view("public"), "programmes", lang="en", sort="lead").items
    leads = [", ".join(r.label("en") for r in i.values.get("lead", ())).casefold() for i in items]
    filled = [lead for lead in leads if lead]
    assert filled == sorted(filled) and leads[:len(filled)] == filled  # the programmes without a lead come last


def test_an_unknown_sort_is_a_clear_400(client: FlaskClient, default_store: Store) -> None:
    with pytest.raises(UnknownSort, match="choose from name, theme"):
        list_entities(default_store.view("public"), "missions", sort="secret")
    response = client.get("/browse/missions?sort=secret")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "choose from name" in response.get_json()["detail"]
    page = client.get("/browse/missions?sort=secret", headers={"Accept": HTML})
    assert page.status_code == 400 and page.mimetype == "text/html"
    assert "cannot sort by &#39;secret&#39;" in page.get_data(as_text=True)


def test_the_csv_follows_the_search_and_the_sort(client: FlaskClient) -> None:
    page = page_of(client, "/browse/missions?sort=-programme&q=a")
    csv_link = re.search(r'<a href="([^"]+format=csv[^"]*)">', page)
    assert csv_link
    table = csv.DictReader(io.StringIO(client.get(html.unescape(csv_link.group(1))).get_data(as_text=True)))
    assert [row["label"] for row in table] == names(page)


# --- facets: multi-select, chips, a fixed order, empty facets hidden -------------------------------------------------

def test_several_values_of_one_facet_are_ticked_together_and_shown_as_chips(client: FlaskClient) -> None:
    path = f"/browse/questions?cluster={QUESTIONS_DIGITAL}&cluster={QUESTIONS_QUANTUM}&q=de"
    page = page_of(client, path)
    for value in (QUESTIONS_DIGITAL, QUESTIONS_QUANTUM):
        assert f'<input type="checkbox" name="cluster" value="{value}" checked>' in page
    found = chips(page)
    assert set(found) == {"Text: de", "Technology cluster: Digital Technologies", "Technology cluster: Quantum Technologies"}
    assert found["Technology cluster: Digital Technologies"] == {"cluster": [QUESTIONS_QUANTUM], "q": ["de"]}
    assert found["Text: de"] == {"cluster": [QUESTIONS_DIGITAL, QUESTIONS_QUANTUM]}
    assert re.search(r'aria-label="Remove filter: Technology cluster: Quantum Technologies"', page)
    assert ">Remove all filters</a>" in page


def test_the_search_box_and_the_facets_are_one_form(client: FlaskClient) -> None:
    """Applying a facet sends the text along and the other way round: nothing typed or ticked is lost."""
    page = page_of(client, f"/browse/questions?cluster={QUESTIONS_DIGITAL}&q=data")
    form = page[page.index('<form class="browse'):page.index("</form>")]
    assert 'name="q"' in form and f'value="{QUESTIONS_DIGITAL}" checked' in form and 'type="submit"' in form


def test_a_ticked_option_keeps_its_place(client: FlaskClient) -> None:
    before = page_of(client, "/browse/questions")
    for path in (f"/browse/questions?cluster={QUESTIONS_QUANTUM}", "/browse/questions?kind=nwa_question",
                 f"/browse/questions?theme={BASE}theme/veiligheid&q=de"):
        after = page_of(client, path)
        for facet in ("kind", "cluster", "theme", "mission"):
            assert options(after, facet) == options(before, facet), (path, facet)


def test_facets_that_cannot_narrow_the_list_are_hidden(client: FlaskClient) -> None:
    projects = page_of(client, "/browse/projects")
    assert "<legend>Real or sample</legend>" not in projects  # every public project is real: nothing to choose
    assert "<legend>Instrument</legend>" in projects
    assert "<legend>Real or sample</legend>" in page_of(client, "/browse/programmes")
    assert '<div class="facets"' not in page_of(client, "/browse/clusters")  # a list without facets has no sidebar


# --- the KEM categories and the column headings ----------------------------------------------------------------------

def test_the_kem_categories_have_a_list_with_the_programmes_that_use_them(client: FlaskClient) -> None:
    kems = yaml.safe_load((REPO_ROOT / "data" / "kem-categories.yaml").read_text(encoding="utf-8"))["records"]
    programmes = yaml.safe_load((REPO_ROOT / "data" / "programmes.yaml").read_text(encoding="utf-8"))["records"]
    using = {k["id"]: sum(k["id"] in p.get("kem_categories", []) for p in programmes) for k in kems}
    assert sum(using.values()) > 0
    page = page_of(client, "/browse/kems", "nl")
    assert "<h1>KEM-categorieën</h1>" in page and headings(page) == ["Naam", "Programma's"]
    shown = {re.search(r'href="/id/kem/([^"]+)"', row).group(1): int(re.findall(r'<td class="num">(\d+)</td>', row)[0])
             for row in rows(page)}
    assert shown == using
    assert {k["label"]["nl"] for k in kems} == set(names(page))
    assert 'href="/browse/kems">KEM-categorieën</a>' in page_of(client, "/browse", "nl")


def test_the_organisation_counts_say_what_they_count(client: FlaskClient) -> None:
    assert headings(page_of(client, "/browse/organisations", "en")) == [
        "Name", "Kind", "Lead of programmes and projects", "Partner in programmes and projects", "Funder of projects"]
    assert "Partner in programma's en projecten" in headings(page_of(client, "/browse/organisations", "nl"))


# --- in a browser: words in the sidebar are never split --------------------------------------------------------------

@pytest.fixture
def page(browser: sync_api.Browser, server: str) -> Iterator[tuple[sync_api.Page, Watch]]:
    yield from watched_page(browser, server, viewport={"width": 1366, "height": 900})


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/browse/organisations?lang=nl", "/browse/missions?lang=nl", "/browse/questions?lang=en"])
def test_sidebar_words_stay_whole_and_inside(page: tuple[sync_api.Page, Watch], server: str, path: str) -> None:
    page_, _ = page
    page_.goto(f"{server}{path}", wait_until="load")
    broken = page_.evaluate("""() => {
        const split = [];
        for (const label of document.querySelectorAll('.facets label.check')) {
          for (const node of label.childNodes) {
            if (node.nodeType !== Node.TEXT_NODE) continue;
            for (const match of node.textContent.matchAll(/\\S+/g)) {
              const range = document.createRange();
              range.setStart(node, match.index);
              range.setEnd(node, match.index + match[0].length);
              if (range.getClientRects().length > 1) split.push(match[0]);
            }
          }
        }
        return split;
      }""")
    assert broken == []
    wider = page_.evaluate("""() => [...document.querySelectorAll('.facets label.check')]
        .filter(label => label.scrollWidth > label.clientWidth + 1).map(label => label.textContent.trim())""")
    assert wider == []  # and none sticks out of the sidebar instead
    assert page_.evaluate("() => document.querySelectorAll('.facets label.check').length") > 0


def test_the_style_never_breaks_words_anywhere() -> None:
    style = (Path(__file__).parent.parent / "web" / "static" / "style.css").read_text(encoding="utf-8")
    facets = [line for line in style.splitlines() if line.startswith(".facets")]
    assert facets and not any("anywhere" in line or "break-all" in line for line in facets)
