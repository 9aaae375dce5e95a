"""The dashboard as a policy officer reads it (web/dashboard.py, web/dashboard_view.py, web/changes_view.py,
web/version_cache.py): statuses in plain words with the numbers behind "Details", blank spots filtered by
status, theme and mission and every one of them reachable, the samples switch, edition changes with names
and euro amounts, two different editions, the analytics computed once per store version, and no
horizontal overflow on a phone."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from config import Settings
from kg.access import PUBLIC
from kg.editions import FIELDS
from kg.store import Store
from ontology import MK
from search.gaps import find_mission_gaps
from tests.conftest import BASE, DATA, free_port, require_chromium
from web.messages import MESSAGES

SETTINGS = Settings()  # the calibrated thresholds the app uses by default
SKOS = "http://www.w3.org/2004/02/skos/core#"
WORDS = {  # status -> its name in plain words, per language
    "en": {"blank": "Not covered", "unlinked": "Possibly covered, not linked", "weak": "Linked, little in common",
           "covered": "Covered"},
    "nl": {"blank": "Niet gedekt", "unlinked": "Mogelijk gedekt, niet gekoppeld", "weak": "Gekoppeld, weinig verwant",
           "covered": "Gedekt"},
}


@pytest.fixture(scope="module")
def client(kernteam_app: Flask) -> FlaskClient:
    """The public dashboard with search (no token)."""
    return kernteam_app.test_client()


@pytest.fixture(scope="module")
def gaps(default_store: Store, public_matcher: Any) -> Any:
    return find_mission_gaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.gap_threshold)


def get(client: FlaskClient, url: str, lang: str = "en", status: int = 200) -> str:
    response = client.get(url, headers={"Accept-Language": lang})
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def section(page: str, name: str) -> str:
    return page.split(f'<section id="{name}"', 1)[1].split("</section>", 1)[0]


def gap_rows(page: str) -> list[str]:
    if 'id="gaps-table"' not in page:
        return []
    table = page.split('id="gaps-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr class=\"status-.*?</tr>", table, re.S)


def row_iri(row: str) -> str:
    return BASE + re.search(r'<th scope="row"><a href="/id/([^"]+)"', row).group(1)


def text_of(fragment: str) -> str:
    """What a reader sees: the text without tags, attributes or what hides behind a <details> toggle."""
    shown = re.sub(r"<details.*?</details>", " ", fragment, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", shown)))


# --- statuses in plain words ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["nl", "en"])
def test_statuses_are_in_plain_words_with_the_numbers_behind_details(client: FlaskClient, gaps: Any,
                                                                      lang: str) -> None:
    block = section(get(client, f"/dashboard?lang={lang}&page=all", lang), "gaps")
    legend = block.split('<dl class="legend statuses">', 1)[1].split("</dl>", 1)[0]
    for status, word in WORDS[lang].items():
        explained = re.search(rf"<dt><strong>{re.escape(word)}</strong></dt><dd>([^<]+)</dd>", legend)
        assert explained and len(explained.group(1).split()) >= 8, (status, legend)  # one line that explains it
    threshold = f"{gaps.threshold:.4f}"
    shown = text_of(block)
    for raw in (threshold, threshold.replace(".", ","), "threshold", "drempel", "similarity", "gelijkenis"):
        assert raw not in shown, f"{raw!r} shows outside the details"
    assert threshold.replace(".", "," if lang == "nl" else ".") in block  # ... and is there, behind the toggle
    rows = gap_rows(block)
    assert len(rows) == len(gaps.items)
    for row, item in zip(rows, gaps.items, strict=True):
        assert f"<td>{WORDS[lang][item.status]}</td>" in html.unescape(row)
        similarity = f"{item.best_similarity:.4f}".replace(".", "," if lang == "nl" else ".")
        assert similarity in row.split("<details", 1)[1] and similarity not in text_of(row)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_overlaps_say_what_they_mean_and_keep_the_threshold_behind_details(client: FlaskClient,
                                                                                lang: str) -> None:
    block = section(get(client, f"/dashboard?lang={lang}", lang), "overlaps")
    intro = text_of(block.split('<p class="help">', 1)[1].split("</p>", 1)[0])
    assert ("candidates to work together" if lang == "en" else "kandidaten om samen te werken") in intro
    assert str(SETTINGS.overlap_threshold)[:4].replace(".", ",") not in intro
    assert "<details" in block and ("threshold" if lang == "en" else "drempel") in block.split("<details", 1)[1]


# --- filters, pages, samples ---------------------------------------------------------------------

def test_the_status_tabs_narrow_the_table_and_count_each_status(client: FlaskClient, gaps: Any) -> None:
    counts = gaps.counts()
    page = get(client, "/dashboard")
    tabs = section(page, "gaps").split('<nav class="tabs"', 1)[1].split("</nav>", 1)[0]
    assert f">All ({len(gaps.items)})</a>" in tabs and 'aria-current="page">All' in tabs
    for status, word in WORDS["en"].items():
        assert f'href="/dashboard?status={status}#gaps">{word} ({counts[status]})</a>' in tabs
        rows = gap_rows(get(client, f"/dashboard?status={status}&page=all"))
        assert len(rows) == counts[status] and all(f"status-{status}" in row for row in rows)
        expected = [c.item.iri for c in gaps.items if c.status == status]
        assert [row_iri(row) for row in rows] == expected  # the ranking order is kept


def missions_and_themes(store: Store) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per item of the blank spots its missions, and per mission its themes with every broader theme,
    read with plain triple patterns."""
    view = store.view(PUBLIC)

    def pairs(sparql: str) -> list[tuple[str, str]]:
        return [(str(r["a"]), str(r["b"])) for r in view.select(f"PREFIX mk: <{MK}> PREFIX skos: <{SKOS}> {sparql}")]

    missions: dict[str, set[str]] = {}
    for item, mission in (pairs("SELECT ?a ?b WHERE { ?a a mk:Mission . BIND(?a AS ?b) }")
                          + pairs("SELECT ?a ?b WHERE { ?a a mk:MMIP ; mk:servesMission ?b }")
                          + pairs("SELECT ?a ?b WHERE { ?a a mk:KnowledgeQuestion ; mk:relatesToMission ?b }")):
        missions.setdefault(item, set()).add(mission)
    broader = dict(pairs("SELECT ?a ?b WHERE { ?a a mk:Theme ; skos:broader ?b }"))
    themes: dict[str, set[str]] = {}
    for mission, theme in pairs("SELECT ?a ?b WHERE { ?a a mk:Mission ; mk:theme ?b }"):
        while theme:
            themes.setdefault(mission, set()).add(theme)
            theme = broader.get(theme, "")
    return missions, themes


@pytest.mark.parametrize("theme", ["gezondheid-zorg", "energietransitie-duurzaamheid"])
def test_a_theme_narrows_the_blank_spots_to_its_missions_mmips_and_questions(client: FlaskClient, gaps: Any,
                                                                             default_store: Store, theme: str) -> None:
    missions, themes = missions_and_themes(default_store)
    wanted = f"{BASE}theme/{theme}"
    expected = [c.item.iri for c in gaps.items
                if any(wanted in themes.get(m, ()) for m in missions.get(c.item.iri, ()))]
    page = get(client, f"/dashboard?theme={theme}&page=all")
    rows = gap_rows(page)
    assert 0 < len(rows) < len(gaps.items)
    assert [row_iri(row) for row in rows] == expected
    assert f'<option value="{theme}" selected>' in section(page, "gaps")
    assert f"{len(expected)} of the {len(gaps.items)} match the filters." in text_of(section(page, "gaps"))


def test_a_mission_and_a_status_together_narrow_further(client: FlaskClient, gaps: Any, default_store: Store) -> None:
    missions, _ = missions_and_themes(default_store)
    mission = f"{BASE}mission/h5-veiligheid"
    expected = [c for c in gaps.items if mission in missions.get(c.item.iri, ())]
    assert len(expected) > 1
    rows = gap_rows(get(client, "/dashboard?mission=h5-veiligheid&page=all"))
    assert [row_iri(row) for row in rows] == [c.item.iri for c in expected]
    status = expected[0].status
    rows = gap_rows(get(client, f"/dashboard?mission=h5-veiligheid&status={status}&page=all"))
    assert [row_iri(row) for row in rows] == [c.item.iri for c in expected if c.status == status]
    tabs = section(get(client, "/dashboard?mission=h5-veiligheid"), "gaps").split('<nav class="tabs"', 1)[1]
    assert 'href="/dashboard?mission=h5-veiligheid#gaps"' in tabs and f">All ({len(expected)})</a>" in tabs


def test_pages_reach_every_blank_spot_and_show_all_lists_them_at_once(client: FlaskClient, gaps: Any) -> None:
    seen: list[int] = []
    url: str | None = "/dashboard"
    while url:
        page = get(client, url)
        seen += [int(re.search(r'<td class="num">(\d+)</td>', row).group(1)) for row in gap_rows(page)]
        following = re.search(r'<a href="([^"]+)" rel="next">', section(page, "gaps"))
        url = html.unescape(following.group(1)) if following else None
        assert len(seen) <= len(gaps.items)
    assert seen == list(range(1, len(gaps.items) + 1))
    everything = get(client, "/dashboard?page=all")
    assert len(gap_rows(everything)) == len(gaps.items)
    assert f"Show all {len(gaps.items)}" in get(client, "/dashboard")


def test_a_page_past_the_last_shows_the_last(client: FlaskClient, gaps: Any) -> None:
    last = -(-len(gaps.items) // 25)
    assert gap_rows(get(client, "/dashboard?page=999")) == gap_rows(get(client, f"/dashboard?page={last}"))


def test_the_filter_form_works_without_script_and_keeps_the_other_choices(client: FlaskClient) -> None:
    page = get(client, "/dashboard?status=blank&before=current&after=2025&samples=exclude")
    form = section(page, "gaps").split('<form class="gap-filters"', 1)[1].split("</form>", 1)[0]
    assert 'method="get"' in form and '<input type="hidden" name="status" value="blank">' in form
    assert '<input type="hidden" name="before" value="current">' in form
    assert re.search(r'<input type="checkbox" id="gaps-samples" name="samples" value="exclude" checked>', form)
    for control in ("gaps-theme", "gaps-mission", "gaps-samples"):
        assert f'<label for="{control}">' in form
    assert '<button type="submit">' in form and "<script" not in page


def test_leaving_the_samples_out_removes_every_sample_record(client: FlaskClient, default_store: Store,
                                                             public_matcher: Any) -> None:
    included = section(get(client, "/dashboard?page=all"), "gaps")
    assert 'class="sample"' in "".join(gap_rows(included))  # some closest consortia are samples
    excluded = get(client, "/dashboard?samples=exclude&page=all")
    for name in ("gaps", "overlaps"):
        assert 'class="sample"' not in section(excluded, name)
    real = find_mission_gaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.gap_threshold, samples=False)
    rows = gap_rows(excluded)
    assert [row_iri(row) for row in rows] == [c.item.iri for c in real.items]
    assert "/sample-" not in "".join(re.findall(r'href="([^"]+)"', "".join(rows)))


@pytest.mark.parametrize("query", ["status=blanc", "theme=atlantis", "mission=moon", "page=0", "page=two"])
def test_a_filter_that_names_nothing_is_a_400_that_says_what_is_allowed(client: FlaskClient, query: str) -> None:
    response = client.get(f"/dashboard?{query}")
    assert response.status_code == 400
    detail = response.get_data(as_text=True)
    assert query.split("=", 1)[1] in detail and ("give one of" in detail or "give a number" in detail)


# --- edition changes -----------------------------------------------------------------------------

def organisation_label(key: str, lang: str) -> str:
    records = yaml.safe_load((DATA / "organisations.yaml").read_text(encoding="utf-8"))["records"]
    label = next(r["label"] for r in records if r["id"] == key)
    return label if isinstance(label, str) else label[lang]


@pytest.mark.parametrize(("lang", "field", "before", "after", "mission"), [
    ("en", "Committed budget", "€6,000,000", "€9,000,000", "Central Health and Care mission"),
    ("nl", "Toegezegd budget", "€ 6.000.000", "€ 9.000.000", "Centrale missie Gezondheid en Zorg"),
])
def test_edition_changes_show_names_and_euro_amounts(default_app: Flask, lang: str, field: str, before: str,
                                                     after: str, mission: str) -> None:
    changes = section(get(default_app.test_client(), f"/dashboard?lang={lang}", lang), "changes")
    table = text_of(changes.split('id="changes-table"', 1)[1].split("</table>", 1)[0])
    assert f" {field} {before} {after} " in table
    assert mission in table and organisation_label("sample-org-16", lang) in table
    for raw in ("budget.committed_eur", "budget.total_eur", "6000000", "gz-central", "sample-org-06", "@nl", "<code>"):
        assert raw not in table, raw
    assert 'href="/id/organisation/sample-org-16"' in changes  # the names still link to their pages


def test_every_field_that_can_change_has_a_name_in_both_languages() -> None:
    for field in {*FIELDS.values(), "lead", "partners"}:
        texts = MESSAGES.get(f"dashboard.field.{field}")
        assert texts and texts["nl"] and texts["en"], field
        assert "_" not in texts["nl"] + texts["en"] and "." not in texts["nl"] + texts["en"], field


@pytest.mark.parametrize(("lang", "message"), [("en", "Choose two different editions"),
                                               ("nl", "Kies twee verschillende edities")])
def test_comparing_an_edition_with_itself_is_refused_with_a_message(default_app: Flask, lang: str,
                                                                    message: str) -> None:
    page = get(default_app.test_client(), f"/dashboard?before=2025&after=2025&lang={lang}", lang, status=400)
    changes = section(page, "changes")
    assert message in changes and 'role="alert"' in changes
    assert 'id="changes-table"' not in changes and 'aria-invalid="true"' in changes
    assert 'class="heatmap"' in page  # the rest of the dashboard still shows
    csv = default_app.test_client().get("/dashboard/edition-changes.csv?before=current&after=current")
    assert csv.status_code == 400 and "two different editions" in csv.get_json()["detail"]


@pytest.mark.parametrize(("query", "before", "after"), [("", "2025", "current"), ("before=current", "current", "2025"),
                                                        ("after=2025", "current", "2025")])
def test_the_edition_selectors_default_to_two_different_editions(default_app: Flask, query: str, before: str,
                                                                 after: str) -> None:
    changes = section(get(default_app.test_client(), f"/dashboard?{query}"), "changes")
    for field, name in (("before", before), ("after", after)):
        select = changes.split(f'id="edition-{field}"', 1)[1].split("</select>", 1)[0]
        assert re.findall(r'<option value="([^"]+)" selected>', select) == [name]
    assert 'id="changes-table"' in changes


# --- computed once per store version -------------------------------------------------------------

@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """How often the dashboard computes its figures and edition changes."""
    import web.dashboard_view as view

    calls = {"figures": 0, "diff": 0}

    def counting(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return function(*args, **kwargs)
        return run

    monkeypatch.setattr(view, "compute_figures", counting("figures", view.compute_figures))
    monkeypatch.setattr(view, "diff_editions", counting("diff", view.diff_editions))
    return calls


def test_a_second_request_reads_the_cache_and_gives_the_same_page(default_store: Store, counted: dict[str, int]) -> None:
    from web.app import create_app

    client = create_app(Settings(store="memory"), store=default_store, matchers={}).test_client()
    first, second = get(client, "/dashboard"), get(client, "/dashboard")
    assert first == second and counted == {"figures": 1, "diff": 1}
    get(client, "/dashboard?lang=nl", "nl")
    get(client, "/dashboard/budget.csv")
    assert counted == {"figures": 1, "diff": 1}  # another language and the CSV read the same version's figures


def test_a_write_makes_a_new_version_and_a_new_page(make_app: Callable[..., Flask], tiny_store: Store,
                                                    counted: dict[str, int]) -> None:
    client = make_app(tiny_store).test_client()
    before = get(client, "/dashboard")
    assert get(client, "/dashboard") == before and counted["figures"] == 1
    mjp = f"{BASE}programme/written-mjp"
    tiny_store.update(f'PREFIX mk: <{MK}> PREFIX skos: <{SKOS}> INSERT DATA {{ GRAPH <{BASE}graph/written> {{ '
                      f'<{mjp}> a mk:MJP, mk:Programme ; skos:prefLabel "Written MJP"@en }} }}', visibility=PUBLIC)
    after = get(client, "/dashboard")
    assert after != before and counted["figures"] == 2
    computed = [re.search(r"Computed from the graph: (\d+) real", page).group(1) for page in (before, after)]
    assert int(computed[1]) == int(computed[0]) + 1
    assert get(client, "/dashboard") == after and counted["figures"] == 2


def test_the_cache_keeps_the_version_before_a_write_for_requests_still_reading_it(tiny_store: Store) -> None:
    from web.version_cache import VersionCache

    cache, computed = VersionCache(), []

    def value(view: Any) -> Any:
        return cache.get(view, "n", lambda: computed.append(view) or len(computed))

    old = tiny_store.view(PUBLIC)
    assert value(old) == value(old) == 1
    tiny_store.update(f'INSERT DATA {{ GRAPH <{BASE}graph/written> {{ <urn:a> <urn:b> "c" }} }}', visibility=PUBLIC)
    new = tiny_store.view(PUBLIC)
    assert value(new) == 2 and value(old) == 1 and value(new) == 2  # a late reader of the old version evicts nothing
    assert computed == [old, new]


# --- a phone -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(kernteam_app: Flask) -> Iterator[str]:
    """The app with search on a loopback port, for the browser."""
    require_chromium()
    port = free_port()
    server = make_server("127.0.0.1", port, kernteam_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_dashboard_content_reaches_past_a_390_px_screen(browser: Any, served: str, lang: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale=lang)
    try:
        page = context.new_page()
        page.goto(f"{served}/dashboard?lang={lang}&page=all", wait_until="load")
        # What sticks out past the screen, except inside a scroll container (a wide table scrolls on its own).
        outside = page.evaluate("""() => [...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.scroll') && e.getBoundingClientRect().right > window.innerWidth + 1)
            .map(e => e.tagName + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : ''))""")
        assert outside == []
        wide = page.evaluate("() => document.querySelector('main').scrollWidth")
        assert wide <= 390
        page.locator("#gaps details.numbers summary").first.click()  # the numbers open without a script of ours
        assert page.locator("#gaps details.numbers").first.get_attribute("open") is not None
    finally:
        context.close()
