"""Every kind of page in a real browser (Debian's chromium driven by Playwright) on the real server with search, at
a desktop width (1366 px) and a phone's (390 px), in Dutch and English: nothing is wider than the screen, axe-core
(vendored in tests/vendor, injected by the test, never served) finds no accessibility violations on our own
pages, the menu folds away on a phone and opens without JavaScript, the language switch on a results page keeps
the results and the pasted text, and every internal link on the main pages answers 200."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from playwright import sync_api

from tests.support import ENTITY_PAGES, HTML, PROPOSAL_NL, Watch, page_kinds, parse_html, watched_page

pytestmark = pytest.mark.slow

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
SCREENSHOTS = Path(__file__).with_name("screenshots")
RESULTS = "match-results"  # the home page's form, submitted: a POST, so it is opened by filling in the form
PHONE_SCREENSHOTS = {"programme", "dashboard", RESULTS}  # saved at 390 px in Dutch, for docs/
TIMEOUT_MS = 60_000
WIDTHS = (1366, 390)
LANGS = ("nl", "en")
PAGES = page_kinds()
THIRD_PARTY = {"sparql": ["#yasgui"]}  # the vendored YASGUI editor is not ours to fix; the rest of the page is

# Where the internal links are checked: the pages people start from and an entity page of each kind.
MAIN_PAGES = ["home", "browse", *(name for name in PAGES if name.startswith("browse-")), "dashboard", *ENTITY_PAGES]

# The elements that stick out of the screen: the outermost ones, outside any box that scrolls or clips them.
WIDER_THAN_THE_SCREEN = """() => {
  const width = window.innerWidth, found = new Set(), names = [];
  for (const element of document.body.querySelectorAll('*')) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.right <= width + 0.5 || !element.checkVisibility()) continue;
    let parent = element.parentElement, inside = false;
    for (; parent && parent !== document.body; parent = parent.parentElement) {
      if (found.has(parent) || getComputedStyle(parent).overflowX !== 'visible') { inside = true; break; }
    }
    if (inside) continue;
    found.add(element);
    const classes = typeof element.className === 'string' && element.className.trim()
      ? '.' + element.className.trim().split(/\\s+/).join('.') : '';
    names.push(`${element.tagName.toLowerCase()}${element.id ? '#' + element.id : ''}${classes} to ${Math.round(box.right)} px`);
  }
  return names.slice(0, 4);
}"""
RUN_AXE = """async exclude => {
  const found = await axe.run(exclude.length ? {include: [document], exclude: exclude.map(s => [s])} : document,
                              {resultTypes: ['violations']});
  return found.violations.map(v => `${v.id} (${v.impact}): ${v.help}; ${v.nodes.length}x: `
                                   + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""


@dataclass
class Survey:
    """What one pass over every page at one width in one language found, by page."""

    wider: dict[str, str] = field(default_factory=dict)
    violations: dict[str, list[str]] = field(default_factory=dict)


@pytest.fixture(scope="module")
def tab(browser: sync_api.Browser, search_server: str) -> Iterator[tuple[sync_api.Page, Watch]]:
    """One browser page for the module (its viewport changed per test)."""
    watch = yield from watched_page(browser, search_server, TIMEOUT_MS, viewport={"width": WIDTHS[0], "height": 900})
    assert watch.outside == [], f"the pages called other hosts: {watch.outside}"


@pytest.fixture(scope="module")
def survey(tab: tuple[sync_api.Page, Watch], search_server: str) -> Callable[[int, str], Survey]:
    """Every page at a width in a language, once (the overflow and the axe tests read the same pass)."""
    done: dict[tuple[int, str], Survey] = {}

    def at(width: int, lang: str) -> Survey:
        if (width, lang) not in done:
            done[width, lang] = survey_pages(tab[0], search_server, width, lang)
        return done[width, lang]
    return at


def survey_pages(page: sync_api.Page, server: str, width: int, lang: str) -> Survey:
    page.set_viewport_size({"width": width, "height": 900})
    axe_source = AXE.read_text(encoding="utf-8")
    found = Survey()
    for name in [*PAGES, RESULTS]:
        open_page(page, server, name, lang)
        if width < 480 and lang == "nl" and name in PHONE_SCREENSHOTS:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"phone-{name}.png"))
        scroll_width, screen = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if scroll_width > screen:
            found.wider[name] = f"{scroll_width} px wide: {', '.join(page.evaluate(WIDER_THAN_THE_SCREEN))}"
        page.evaluate(axe_source)  # as a script of the test (the page's CSP allows no inline script)
        violations = page.evaluate(RUN_AXE, THIRD_PARTY.get(name, []))
        if violations:
            found.violations[name] = violations
    return found


def open_page(page: sync_api.Page, server: str, name: str, lang: str) -> None:
    if name == RESULTS:
        page.goto(f"{server}/?lang={lang}", wait_until="load")
        page.locator("#text").fill(PROPOSAL_NL)
        page.locator("#match-form button[type=submit]").click()
        page.locator("#results").wait_for(state="visible")
        page.wait_for_load_state("load")
        return
    response = page.goto(f"{server}{PAGES[name]}?lang={lang}", wait_until="load")
    assert response is not None and response.status == (404 if name == "not-found" else 200), f"{name}: {response}"
    if name == "sparql":
        page.wait_for_load_state("networkidle")  # YASGUI builds its editor after the load event


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_is_wider_than_the_screen(survey: Callable[[int, str], Survey], width: int, lang: str) -> None:
    wider = survey(width, lang).wider
    assert not wider, f"at {width} px ({lang}):\n" + "\n".join(f"{name}: {why}" for name, why in wider.items())


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", WIDTHS)
def test_axe_finds_no_violations(survey: Callable[[int, str], Survey], width: int, lang: str) -> None:
    violations = survey(width, lang).violations
    assert not violations, f"at {width} px ({lang}):\n" + "\n".join(
        f"{name}: {problem}" for name, problems in violations.items() for problem in problems)


def test_the_menu_folds_away_on_a_phone_and_opens_without_javascript(browser: sync_api.Browser,
                                                                       search_server: str) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{search_server}/browse?lang=nl", wait_until="load")
        header = page.locator("body > header")
        assert header.bounding_box()["height"] < 80  # one row: the name and the menu button
        menu = page.get_by_role("navigation", name="Hoofdmenu")
        languages = page.get_by_role("navigation", name="Taal")
        assert menu.is_hidden() and languages.is_hidden()
        header.get_by_text("Menu", exact=True).click()
        assert menu.is_visible() and languages.is_visible()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "phone-menu.png"))
        assert menu.get_by_role("link", name="Bladeren").get_attribute("aria-current") == "page"
        width = page.locator("html").bounding_box()["width"]
        assert all(link.bounding_box()["x"] + link.bounding_box()["width"] <= width
                   for link in menu.get_by_role("link").all())
        menu.get_by_role("link", name="Dashboard").click()
        page.wait_for_url("**/dashboard")
        assert menu.is_hidden()  # a new page starts with the menu folded

        page.set_viewport_size({"width": 1366, "height": 900})  # wide: the menu is in the header, no button
        assert menu.is_visible() and languages.is_visible()
        assert header.get_by_text("Menu", exact=True).is_hidden()
        assert header.bounding_box()["height"] < 80
    finally:
        context.close()


def test_the_language_switch_keeps_the_results_and_the_text(tab: tuple[sync_api.Page, Watch], search_server: str) -> None:
    page = tab[0]
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    open_page(page, search_server, RESULTS, "nl")
    hits = page.locator("#results li.hit h4 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert len(hits) >= 10
    with page.expect_navigation(wait_until="load"):
        page.get_by_role("navigation", name="Taal").get_by_role("button", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    page.locator("#results").wait_for(state="visible")
    again = page.locator("#results li.hit h4 a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert again == hits  # the same answer, now in English
    assert page.locator("#text").input_value().strip() == PROPOSAL_NL.strip()  # the pasted text is still there


def test_every_internal_link_on_the_main_pages_answers(search_server: str) -> None:
    links: dict[str, str] = {}  # link -> the first page it is on
    for name in MAIN_PAGES:
        for lang in LANGS:
            where = f"{PAGES[name]}?lang={lang}"
            page = requests.get(search_server + where, headers={"Accept": HTML}, timeout=60)
            assert page.status_code == 200, where
            for tag, attrs in parse_html(page.text).tags:
                href = (attrs.get("href") or "") if tag == "a" else ""
                if href.startswith("/") and not href.startswith("//"):
                    links.setdefault(href.split("#")[0], where)
    assert len(links) > 100

    def status(link: str) -> int:
        with requests.get(search_server + link, headers={"Accept": HTML}, timeout=60, stream=True) as response:
            return response.status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = dict(zip(links, pool.map(status, links), strict=True))
    broken = [f"{link} (on {links[link]}): {code}" for link, code in answers.items() if code != 200]
    assert not broken, "\n".join(broken)
