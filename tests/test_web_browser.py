"""The web interface end to end in a real headless browser (Debian's chromium driven by Playwright), on the real
server (gunicorn) with search on the default data: paste a Dutch proposal and read the explained hits, open an
entity page, see the dashboard heatmap and blank spots, switch the language, use the keyboard. Saves screenshots
for the README."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api

from tests.support import PROPOSAL_NL, Watch, watched_page

SCREENSHOTS = Path(__file__).with_name("screenshots")
TIMEOUT_MS = 30_000
WIDTH = 1280

pytestmark = pytest.mark.slow


@pytest.fixture
def page(browser: sync_api.Browser, search_server: str) -> Iterator[tuple[sync_api.Page, Watch]]:
    watch = yield from watched_page(browser, search_server, TIMEOUT_MS, viewport={"width": WIDTH, "height": 900},
                                    locale="en-US")
    assert watch.outside == [], f"the pages called other hosts: {watch.outside}"
    assert watch.console_errors == [], f"console errors: {watch.console_errors}"


def screenshot(page: sync_api.Page, name: str, selector: str | None = None, height: int = 1100) -> None:
    """A screenshot of the page from `selector` (or the top), `height` pixels tall."""
    SCREENSHOTS.mkdir(exist_ok=True)
    top = page.locator(selector).first.evaluate("e => e.getBoundingClientRect().top + window.scrollY") if selector else 0
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True,
                    clip={"x": 0, "y": max(0, top - 16), "width": WIDTH, "height": height})


def match_dutch_proposal(page: sync_api.Page, server: str) -> None:
    page.goto(f"{server}/?lang=nl", wait_until="load")
    page.get_by_label("Plak de tekst van uw voorstel").fill(PROPOSAL_NL)
    page.get_by_role("button", name="Zoek wat past").click()
    page.locator("#results").wait_for(state="visible")


def test_a_pasted_dutch_proposal_shows_questions_and_mjps_with_explanations(
        page: tuple[sync_api.Page, Watch], search_server: str) -> None:
    page_, watch = page
    page_.goto(f"{search_server}/?lang=nl", wait_until="load")
    page_.get_by_label("Plak de tekst van uw voorstel").fill(PROPOSAL_NL)
    screenshot(page_, "match-form", height=900)
    match_dutch_proposal(page_, search_server)

    assert page_.locator("html").get_attribute("lang") == "nl"
    questions = page_.locator("#section-questions li.hit")
    programmes = page_.locator("#section-programmes li.hit")
    assert questions.count() >= 5 and programmes.count() >= 5
    photondelta = programmes.filter(has=page_.locator('h4 a[href="/id/programme/photondelta"]'))
    assert photondelta.count() == 1
    assert photondelta.locator(".consortium dt").all_inner_texts() == ["Penvoerder", "Partners"]
    assert photondelta.locator("mark").first.inner_text().lower() == "fotonische chips"
    assert "Gedeelde begrippen" in photondelta.locator(".shared").inner_text()
    assert photondelta.locator("figure.passage").count() == 0  # the proposal is one passage: not repeated
    assert programmes.locator(".sample").count() >= 1  # sample MJPs say so
    assert page_.locator("#section-suggestions table.bars").count() == 2
    screenshot(page_, "match-results", "#results", height=1400)
    posts = [r for r in watch.requests if r.startswith("POST ") and r.endswith("/match")]
    assert len(posts) == 1, watch.requests  # a plain form POST, no script-driven requests


def test_the_form_shows_progress_while_it_works(page: tuple[sync_api.Page, Watch], search_server: str) -> None:
    page_, _ = page
    page_.goto(f"{search_server}/", wait_until="load")
    assert page_.locator("#progress").is_hidden()
    page_.get_by_label("Paste the text of your proposal").fill(PROPOSAL_NL)
    # Hold the submission (a listener added after the page's own), so the indicator can be looked at.
    page_.evaluate("""() => document.getElementById('match-form')
                        .addEventListener('submit', event => event.preventDefault())""")
    page_.get_by_role("button", name="Find what fits").click()
    assert page_.locator("#progress").is_visible()
    assert page_.locator("#match-form").get_attribute("aria-busy") == "true"
    page_.wait_for_function("() => document.querySelector('#match-form button[type=submit]').disabled")


def test_an_entity_page_from_a_hit(page: tuple[sync_api.Page, Watch], search_server: str) -> None:
    page_, _ = page
    match_dutch_proposal(page_, search_server)
    page_.locator('#section-programmes h4 a[href="/id/programme/photondelta"]').first.click()
    page_.wait_for_url("**/id/programme/photondelta")
    assert page_.locator("h1").inner_text().startswith("PhotonDelta")
    facts = page_.locator("dl.facts").inner_text()
    assert "Bron" in facts and "Betrouwbaarheid" in facts
    assert "Penvoerder" in page_.locator("dl.contact").inner_text()  # the contact block comes first
    similar = page_.locator("ul.similar li")
    assert similar.count() >= 3
    screenshot(page_, "entity-page", height=1300)
    similar.first.locator("a").first.click()  # similar items are entity pages too
    page_.locator("h1").wait_for()
    assert "/id/" in page_.url


def test_the_dashboard_shows_the_heatmap_the_bar_chart_and_the_blank_spots(page: tuple[sync_api.Page, Watch],
                                                                           search_server: str) -> None:
    page_, _ = page
    page_.goto(f"{search_server}/dashboard", wait_until="load")
    heatmap = page_.locator("table.heatmap")
    heatmap.wait_for(state="visible")
    assert heatmap.locator("tbody tr").count() == 9
    assert heatmap.locator("td.cell").count() == 9 * 8
    assert heatmap.locator("td.cell.dark").count() >= 1
    assert page_.locator("svg.bar-chart rect").count() == 8
    screenshot(page_, "dashboard", height=1250)
    with page_.expect_download() as download:
        page_.locator('a[href="/dashboard/theme-cluster.csv"]').click()
    assert download.value.suggested_filename == "missiekompas-theme-cluster.csv"

    # The blank spots of the missions: ranked, linked, samples marked; the table continues in the CSV.
    page_.get_by_role("navigation", name="Sections").get_by_role("link", name="Blank spots in the missions").click()
    gaps = page_.locator("#gaps-table")
    gaps.wait_for(state="visible")
    rows = gaps.locator("tbody tr")
    assert rows.count() == 25
    assert rows.first.locator("td").nth(2).inner_text() == "Not covered"
    assert rows.first.locator('th a[href^="/id/"]').count() == 1
    assert gaps.locator(".sample").count() >= 1
    assert page_.locator("#overlaps-table tbody tr").count() >= 1
    screenshot(page_, "dashboard-gaps", "#gaps", height=1250)


def test_switching_the_language(page: tuple[sync_api.Page, Watch], search_server: str) -> None:
    page_, _ = page
    page_.goto(f"{search_server}/browse/programmes", wait_until="load")
    assert page_.locator("html").get_attribute("lang") == "en"  # from the browser's Accept-Language
    assert page_.locator("h1").inner_text() == "Programmes and MJPs"
    languages = page_.get_by_role("navigation", name="Language")
    languages.get_by_role("link", name="Nederlands", exact=True).click()
    page_.wait_for_url("**/browse/programmes?lang=nl")
    assert page_.locator("html").get_attribute("lang") == "nl"
    assert page_.locator("h1").inner_text() == "Programma's en MJP's"
    page_.get_by_role("navigation", name="Hoofdmenu").get_by_role("link", name="Dashboard").click()  # remembered
    assert page_.locator("h1").inner_text() == "Dashboard voor het Kernteam"
    page_.get_by_role("navigation", name="Taal").get_by_role("link", name="English", exact=True).click()
    assert page_.locator("h1").inner_text() == "Kernteam dashboard"


def test_keyboard_users_can_skip_to_the_content_and_filter(page: tuple[sync_api.Page, Watch], search_server: str) -> None:
    page_, _ = page
    page_.goto(f"{search_server}/browse/questions", wait_until="load")
    page_.keyboard.press("Tab")
    assert page_.evaluate("() => document.activeElement.className") == "skip"
    page_.keyboard.press("Enter")
    assert page_.evaluate("() => location.hash") == "#content"
    first = page_.locator(".facets input[type=checkbox]").first
    first.focus()
    page_.keyboard.press("Space")
    page_.keyboard.press("Enter")  # submits the facet form
    page_.wait_for_url("**/browse/questions?*")
    assert page_.locator(".facets input[type=checkbox]").first.is_checked()
