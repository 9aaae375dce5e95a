"""The Kernteam dashboard (web/dashboard.py): Figure 1 as a heatmap, Figure 2 as an SVG bar chart, budgets (computed,
real and sample apart, next to reported), the real consortia, mission blank spots and overlapping consortia (with a
samples switch) and edition changes, every table as CSV; for the request's audience only, and still useful without
search."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from kg.access import INTERNAL, PUBLIC
from kg.editions import diff_editions
from kg.figures import compute_figures
from kg.matrix import theme_cluster_matrix
from kg.store import Store
from search.gaps import find_mission_gaps
from search.overlaps import find_overlaps
from tests.conftest import BASE, KERNTEAM_TOKEN
from tests.support import DRAFT, parse_html
from web.dashboard import GAPS_SHOWN, TABLES

KERNTEAM = {"Authorization": f"Bearer {KERNTEAM_TOKEN}"}
SETTINGS = Settings()  # the calibrated thresholds the app uses by default


@pytest.fixture
def client(default_app: Flask) -> FlaskClient:
    return default_app.test_client()


@pytest.fixture(scope="module")
def page(default_app: Flask) -> str:
    """The public dashboard without search (no model, no index)."""
    response = default_app.test_client().get("/dashboard", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture(scope="module")
def search_page(kernteam_app: Flask) -> str:
    """The public dashboard with search."""
    response = kernteam_app.test_client().get("/dashboard", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture(scope="module")
def kernteam_page(kernteam_app: Flask) -> str:
    response = kernteam_app.test_client().get("/dashboard", headers={"Accept-Language": "en", **KERNTEAM})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page: str, name: str) -> str:
    return page.split(f'<section id="{name}"', 1)[1].split("</section>", 1)[0]


def table_rows(page: str, table_id: str) -> list[str]:
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr[ >].*?</tr>", table.split("<tbody>", 1)[1], re.S)


def read_csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv", response.get_data(as_text=True)[:300]
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def test_heatmap_has_a_row_per_theme_and_a_column_per_cluster(page: str, default_store: Store) -> None:
    matrix = theme_cluster_matrix(default_store.view(PUBLIC))
    table = page.split('<table class="heatmap">', 1)[1].split("</table>", 1)[0]
    body_rows = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", table, re.S)
    assert len(body_rows) == len(matrix.themes) == 9
    assert table.split("</thead>", 1)[0].count('<th scope="col" class="column">') == len(matrix.clusters) == 8
    for (theme, cells), row in zip(matrix.rows(), body_rows, strict=True):
        assert theme.iri.rsplit("/", 1)[1] in row
        shown = [int(v) for v in re.findall(r'<td class="cell[^"]*"[^>]*>(\d+)', row)]
        assert shown == [c.count for c in cells]


def test_heatmap_shades_by_count(page: str, default_store: Store) -> None:
    peak = theme_cluster_matrix(default_store.view(PUBLIC)).peak
    assert "rgba(11, 92, 173, 1.00)" in page  # the peak cell
    assert re.search(r'class="cell dark"[^>]*>' + str(peak), page)


def test_figure_1_tables_and_budget_match_the_figures(page: str, default_store: Store) -> None:
    figures = compute_figures(default_store.view(PUBLIC))
    table = page.split('id="mjps-per-theme-table"', 1)[1].split("</table>", 1)[0]
    for share in figures.mjps_per_theme:
        only = r' <span class="sample"[^>]*>samples only</span>' if share.samples and not share.real else ""
        assert re.search(rf'href="/id/theme/{share.iri.rsplit("/", 1)[1]}">[^<]+</a>{only}</th><td class="num">{share.count}'
                         rf'</td>\s*<td class="num">{share.real}</td><td class="num">{share.samples}</td>', table)
    assert f"Computed from the graph: {figures.real_mjps} real and {figures.sample_mjps} sample MJPs." in page
    budget = section(page, "budget")
    assert f"€{figures.budget_line('total').all:,.0f}" in budget and "Reported by" in budget
    assert "€4,165,000,000" in budget  # euro amounts as English writes them
    assert f"Computed from the graph: real MJPs ({figures.real_mjps})" in budget
    assert f"Computed from the graph: sample MJPs ({figures.sample_mjps})" in budget


def test_what_rests_on_samples_only_says_so(page: str, default_store: Store) -> None:
    figures = compute_figures(default_store.view(PUBLIC))
    total = figures.budget_line("total")
    assert total.sample_only and total.real_mjps == 0  # no real MJP of the default data states a total budget
    note = page.split('id="budget-sample-only"', 1)[1].split("</p>", 1)[0]
    assert f"comes only from the {total.sample_mjps} sample MJPs" in note and f"€{total.all:,.0f}" in note
    proxies = page.split('id="figure-2-proxies"', 1)[1].split("</p>", 1)[0]
    assert f"Of the {figures.questions.count} knowledge questions in a cluster, {figures.questions.proxies} are proxies" \
        in proxies and "this figure shows proxies only" in proxies


def test_the_real_consortia_have_their_own_tables(page: str, default_store: Store) -> None:
    real = compute_figures(default_store.view(PUBLIC)).real_consortia
    block = section(page, "real-consortia")
    assert f"the {real.consortia} consortia that are no sample" in block and "45 projects" in block
    rows = table_rows(block, "real-consortia-cluster-table")
    assert len(rows) == len(real.per_cluster) == 8
    first = real.per_cluster[0]
    assert f'<td class="num">{first.count}</td>' in rows[0] and 'class="sample"' not in block


def test_figure_2_is_an_inline_svg_bar_chart(page: str, default_store: Store) -> None:
    figures = compute_figures(default_store.view(PUBLIC))
    svg = page.split('<svg class="bar-chart"', 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert svg.count("<rect") == len(figures.questions_per_cluster) == 8
    widths = [float(w) for w in re.findall(r'<rect x="300" y="[\d.]+" width="([\d.]+)"', svg)]
    assert widths == sorted(widths, reverse=True) and widths[0] == 400.0


def test_dashboard_loads_no_script_and_nothing_from_elsewhere(page: str) -> None:
    tags = parse_html(page)
    assert not tags.scripts
    for tag, attrs in tags.tags:
        for name in ("src", "href"):
            assert not re.match(r"^(https?:)?//", attrs.get(name) or ""), (tag, attrs)


SEARCH_TABLES = ("gaps", "overlaps")  # these need the search index
GRAPH_TABLES = [name for name in TABLES if name not in SEARCH_TABLES]


def test_every_table_has_a_csv_link(page: str, search_page: str) -> None:
    for name in GRAPH_TABLES:
        assert re.search(rf'href="/dashboard/{name}.csv[?"]', page)
    for name in TABLES:
        assert re.search(rf'href="/dashboard/{name}.csv[?"]', search_page)


@pytest.mark.parametrize("name", GRAPH_TABLES)
def test_every_table_downloads_as_csv(client: FlaskClient, name: str) -> None:
    response = client.get(f"/dashboard/{name}.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert f'filename="missiekompas-{name}.csv"' in response.headers["Content-Disposition"]
    assert len(list(csv.reader(io.StringIO(response.get_data(as_text=True))))) > 1


def test_heatmap_csv_is_the_matrix(client: FlaskClient, default_store: Store) -> None:
    matrix = theme_cluster_matrix(default_store.view(PUBLIC))
    table = list(csv.reader(io.StringIO(client.get("/dashboard/theme-cluster.csv").get_data(as_text=True))))
    assert table[0][2:] == [c.label("en") for c in matrix.clusters]
    assert [[int(v) for v in row[2:]] for row in table[1:]] == [[c.count for c in cells] for _, cells in matrix.rows()]


def test_an_unknown_table_is_404(client: FlaskClient) -> None:
    assert client.get("/dashboard/secrets.csv").status_code == 404


# --- without search -----------------------------------------------------------------------------

def test_without_search_blank_spots_and_overlaps_say_so_and_the_rest_renders(page: str) -> None:
    for name in ("gaps", "overlaps"):
        assert "need the search index" in section(page, name)
    assert 'id="gaps-table"' not in page and 'id="overlaps-table"' not in page
    assert 'id="changes-table"' in section(page, "changes") and 'class="heatmap"' in page


@pytest.mark.parametrize("name", SEARCH_TABLES)
def test_without_search_their_csv_is_503(client: FlaskClient, name: str) -> None:
    response = client.get(f"/dashboard/{name}.csv")
    assert response.status_code == 503 and response.mimetype == "application/problem+json"


# --- mission blank spots ------------------------------------------------------------------------

def test_blank_spots_are_ranked_with_status_links_and_sample_marks(search_page: str, default_store: Store,
                                                                   public_matcher: Any) -> None:
    gaps = find_mission_gaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.gap_threshold)
    rows = table_rows(search_page, "gaps-table")
    assert len(rows) == GAPS_SHOWN < len(gaps.items)
    for row, item in zip(rows, gaps.items, strict=False):
        assert f'href="/id/{item.item.iri.removeprefix(BASE)}"' in row and f"status-{item.status}" in row
        assert f">{item.linked_consortia}" in row and f"{item.best_similarity:.4f}" in row  # behind "Details"
        assert item.best_consortium and f'href="/id/{item.best_consortium.iri.removeprefix(BASE)}"' in row
        assert ('class="sample"' in row) == item.best_consortium.is_sample
    assert "<td>Not covered</td>" in rows[0] and '<span class="kind">knowledge question</span>' in rows[0]
    counts = gaps.counts()
    assert f">Not covered ({counts['blank']})</a>" in section(search_page, "gaps")  # the status tab
    assert f"Rows 1 to {GAPS_SHOWN} of {len(gaps.items)}." in search_page  # and the pages after it
    assert 'href="/dashboard?page=2#gaps"' in section(search_page, "gaps")


def test_the_blank_spots_csv_holds_every_item(client: FlaskClient, kernteam_app: Flask, default_store: Store,
                                              public_matcher: Any) -> None:
    gaps = find_mission_gaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.gap_threshold)
    table = read_csv(kernteam_app.test_client().get("/dashboard/gaps.csv"))
    assert table[0] == ["rank", "kind", "iri", "label", "is_sample", "status", "linked_consortia", "linked_samples",
                        "linked_mjp", "linked_bgp", "linked_related", "linked_project", "best_similarity",
                        "best_consortium", "best_consortium_label", "best_consortium_kind", "best_consortium_is_sample",
                        "threshold"]
    assert len(table) - 1 == len(gaps.items)
    first = gaps.items[0]
    assert table[1][:7] == ["1", first.kind, first.item.iri, first.item.label, "False", first.status,
                            str(first.linked_consortia)]
    assert [row[5] for row in table[1:]] == [c.status for c in gaps.items]
    assert all(int(row[6]) == sum(int(v) for v in row[8:12]) for row in table[1:])  # the kinds add up
    assert any(row[16] == "True" for row in table[1:])  # best consortia that are samples say so
    assert {row[15] for row in table[1:]} >= {"project", "mjp"}


# --- the samples switch -------------------------------------------------------------------------

def test_the_samples_switch_leaves_the_samples_out_of_blank_spots_and_overlaps(kernteam_app: Flask, search_page: str,
                                                                              default_store: Store,
                                                                              public_matcher: Any) -> None:
    assert 'href="/dashboard?samples=exclude">Leave the samples out</a>' in search_page
    page = kernteam_app.test_client().get("/dashboard?samples=exclude", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'href="/dashboard">Count the samples again</a>' in text and "Samples are left out" in text
    gaps = find_mission_gaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.gap_threshold, samples=False)
    assert f"{gaps.portfolio.samples_left_out} sample consortia are left out" in section(text, "gaps")
    for name in ("gaps", "overlaps"):
        assert 'class="sample"' not in section(text, name)
        assert f'href="/dashboard/{name}.csv?samples=exclude"' in section(text, name)
    rows = table_rows(text, "gaps-table")
    assert all(f"status-{c.status}" in row for row, c in zip(rows, gaps.items, strict=False))
    table = read_csv(kernteam_app.test_client().get("/dashboard/gaps.csv?samples=exclude"))
    assert len(table) - 1 == len(gaps.items) and not any(row[16] == "True" or row[7] != "0" for row in table[1:])
    assert "samples=" in problem_detail(kernteam_app.test_client().get("/dashboard?samples=maybe"), 400)


def problem_detail(response: Any, status: int) -> str:
    assert response.status_code == status and response.mimetype == "application/problem+json"
    return str(response.get_json()["detail"])


# --- overlaps -----------------------------------------------------------------------------------

def test_overlapping_pairs_and_groups(search_page: str, default_store: Store, public_matcher: Any) -> None:
    found = find_overlaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.overlap_threshold,
                          public_matcher.explainer.concepts)
    rows = table_rows(search_page, "overlaps-table")
    assert len(rows) == len(found.pairs) > 0
    first, second = rows[0], rows[1]
    assert "0.978" in first and 'class="sample"' not in first  # two real broadly supported programmes
    assert 'href="/id/programme/cs4nl"' in first and 'href="/id/programme/exceed"' in first
    assert first.count('<span class="kind">broadly supported programme</span>') == 2
    assert "0.967" in second and second.count('class="sample"') >= 2
    assert 'href="/id/programme/sample-mjp-04"' in second and 'href="/id/programme/sample-mjp-09"' in second
    assert 'class="concept"' in second and '<span class="kind">mission</span>' in second
    groups = section(search_page, "overlaps").split('<ol class="groups">', 1)[1].split("</ol>", 1)[0]
    assert groups.count("<li>") == len(found.groups)


def test_the_overlaps_csv(kernteam_app: Flask, default_store: Store, public_matcher: Any) -> None:
    table = read_csv(kernteam_app.test_client().get("/dashboard/overlaps.csv"))
    assert table[0] == ["rank", "group", "similarity", "first", "first_label", "first_kind", "first_is_sample", "second",
                        "second_label", "second_kind", "second_is_sample", "shared_concepts", "shared_links"]
    assert table[1][:4] == ["1", "1", "0.9777", BASE + "programme/cs4nl"] and table[1][5:7] == ["bgp", "False"]
    assert table[2][2:4] == ["0.967", BASE + "programme/sample-mjp-04"] and table[2][5:7] == ["mjp", "True"]
    assert "mission: Industrie" in table[2][12]
    found = find_overlaps(default_store.view(PUBLIC), public_matcher.index, SETTINGS.overlap_threshold,
                          public_matcher.explainer.concepts)
    assert len(table) - 1 == len(found.pairs)


# --- edition changes ----------------------------------------------------------------------------

def test_changes_default_to_the_latest_past_edition_against_current(page: str, default_store: Store) -> None:
    changes = section(page, "changes")
    assert re.search(r'<option value="2025" selected>2025</option>', changes.split('id="edition-before"', 1)[1])
    assert re.search(r'<option value="current" selected>current</option>', changes.split('id="edition-after"', 1)[1])
    assert "From 2025 to current: 1 new, 1 dropped and 2 changed MJPs." in changes
    new = changes.split('id="changes-new"', 1)[1].split("</div>", 1)[0]
    assert 'href="/id/programme/sample-mjp-10"' in new and 'class="sample"' in new
    assert 'href="/id/programme/sample-mjp-11"' in changes.split('id="changes-dropped"', 1)[1]
    assert "<td>Total budget</td>" in changes and 'rowspan="4"' in changes
    diff = diff_editions(default_store.view(PUBLIC), "2025", "current")
    moved = [c for c in diff.coverage if c.delta]
    assert len(table_rows(changes, "mission-coverage-table")) == len(moved) > 0
    assert f"For {len(moved)} of the {len(diff.coverage)} missions" in changes
    assert 'href="/dashboard/edition-changes.csv?before=2025&amp;after=current"' in changes


def test_changes_between_chosen_editions(client: FlaskClient) -> None:
    changes = section(client.get("/dashboard?before=current&after=2025").get_data(as_text=True), "changes")
    assert "From current to 2025: 1 new, 1 dropped" in changes
    assert 'href="/id/programme/sample-mjp-11"' in changes.split('id="changes-new"', 1)[1].split("</div>", 1)[0]
    assert 'href="/dashboard/mission-coverage.csv?before=current&amp;after=2025"' in changes


def test_an_unknown_edition_is_404_with_the_known_names(client: FlaskClient) -> None:
    for url in ("/dashboard?before=1999", "/dashboard/edition-changes.csv?after=1999"):
        response = client.get(url)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
        assert "known: 2025, current" in response.get_json()["detail"]


def test_the_edition_csvs(client: FlaskClient, default_store: Store) -> None:
    diff = diff_editions(default_store.view(PUBLIC), "2025", "current")
    changes = read_csv(client.get("/dashboard/edition-changes.csv"))
    assert changes[0] == ["before_edition", "after_edition", "change", "iri", "label", "is_sample", "field", "before",
                          "after"]
    assert [row[2] for row in changes[1:]] == ["new", "dropped"] + ["changed"] * sum(len(c.changes) for c in diff.changed)
    assert changes[1][:4] == ["2025", "current", "new", BASE + "programme/sample-mjp-10"] and changes[1][5] == "True"
    total = next(row for row in changes if row[6] == "budget.total_eur")
    assert total[7:] == ["21000000", "26000000"]
    coverage = read_csv(client.get("/dashboard/mission-coverage.csv?before=current&after=2025"))
    assert coverage[0] == ["before_edition", "after_edition", "mission", "label", "mjps_before", "mjps_after", "delta"]
    assert len(coverage) - 1 == len(diff.coverage)
    assert all(int(row[6]) == int(row[5]) - int(row[4]) for row in coverage[1:])


# --- access levels ------------------------------------------------------------------------------

def test_the_public_dashboard_never_shows_the_internal_draft(search_page: str, kernteam_page: str) -> None:
    link = 'href="/id/programme/sample-draft-01"'
    assert link not in search_page and "sample-draft-01" not in search_page
    assert link in section(kernteam_page, "changes")
    counted = [int(re.search(r"how many of the (\d+) consortia", section(page, "gaps")).group(1))
               for page in (search_page, kernteam_page)]
    assert counted[1] == counted[0] + 1  # the draft is one more consortium for the Kernteam
    assert link in section(kernteam_page, "overlaps")


@pytest.mark.parametrize("name", ["gaps", "overlaps", "edition-changes"])
def test_csvs_hold_the_draft_only_for_the_kernteam(kernteam_app: Flask, name: str) -> None:
    client = kernteam_app.test_client()
    assert DRAFT not in client.get(f"/dashboard/{name}.csv").get_data(as_text=True)
    kernteam = client.get(f"/dashboard/{name}.csv", headers=KERNTEAM).get_data(as_text=True)
    if name != "gaps":
        assert DRAFT in kernteam
        return
    # the blank spots name no linked consortium, but the draft's link to its mission counts for the Kernteam only
    rows = {row[2]: row for row in read_csv(client.get("/dashboard/gaps.csv"))[1:]}
    industry = BASE + "mission/ed-c-industrie"
    kernteam_row = next(row for row in csv.reader(io.StringIO(kernteam)) if row[2] == industry)
    assert int(kernteam_row[6]) == int(rows[industry][6]) + 1 and int(kernteam_row[7]) == int(rows[industry][7]) + 1


def test_the_kernteam_counts_the_draft_in_the_mission_coverage(kernteam_app: Flask, default_store: Store) -> None:
    client = kernteam_app.test_client()
    internal = diff_editions(default_store.view(INTERNAL), "2025", "current")
    table = read_csv(client.get("/dashboard/mission-coverage.csv", headers=KERNTEAM))
    industry = next(row for row in table if row[2] == BASE + "mission/ed-c-industrie")
    assert int(industry[5]) == next(c.after for c in internal.coverage if c.iri == industry[2])
    public = next(row for row in read_csv(client.get("/dashboard/mission-coverage.csv")) if row[2] == industry[2])
    assert int(public[5]) == int(industry[5]) - 1


def test_the_sections_are_in_dutch_too(kernteam_app: Flask) -> None:
    page = kernteam_app.test_client().get("/dashboard?lang=nl", headers=KERNTEAM).get_data(as_text=True)
    assert "Witte vlekken in de missies" in page and "<td>Niet gedekt</td>" in page
    assert "Overlappende consortia" in page and "Van 2025 naar huidig: 2 nieuwe" in page  # the draft counts
    assert "Echte consortia per thema en cluster" in page and "Laat de voorbeelden weg" in page
