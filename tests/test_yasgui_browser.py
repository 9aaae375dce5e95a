"""The SPARQL editor page in a real headless browser (Debian's chromium driven by Playwright).

Opens /sparql on the real server, runs a query through YASGUI and one example button, and checks that the page
neither logs a console error nor calls any host but the server itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright import sync_api

from tests.support import Watch, watched_page

SCREENSHOT = Path(__file__).with_name("screenshots") / "sparql-editor.png"

CLUSTER_LABELS = """PREFIX mk: <https://w3id.org/missiekompas/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?label WHERE { ?c a mk:TechnologyCluster ; skos:prefLabel ?label FILTER(LANG(?label) = "en") }
ORDER BY ?label"""

ROWS = "#yasgui .yasr table.dataTable tbody tr"

pytestmark = pytest.mark.slow


@pytest.fixture
def page(browser: sync_api.Browser, server: str) -> Iterator[tuple[sync_api.Page, Watch]]:
    yield from watched_page(browser, server, viewport={"width": 1280, "height": 1000})


def wait_for_results(page: sync_api.Page, previous: str | None = None) -> list[str]:
    """Wait until the YASR table shows a result (different from `previous`), then give the text of its rows."""
    page.wait_for_function(
        """([selector, previous]) => {
             const rows = document.querySelectorAll(selector);
             if (!rows.length) return false;
             return previous === null || rows[0].innerText !== previous;
           }""",
        arg=[ROWS, previous],
    )
    return page.locator(ROWS).evaluate_all("rows => rows.map(r => r.innerText)")


def test_sparql_editor_runs_queries_in_a_browser(page: tuple[sync_api.Page, Watch], server: str) -> None:
    page_, watch = page
    response = page_.goto(f"{server}/sparql", wait_until="load")
    assert response is not None and response.status == 200
    assert response.headers["content-type"].startswith("text/html")

    # YASGUI renders: the editor (CodeMirror) and the results area exist, and the page script exposed it.
    page_.locator("#yasgui .yasqe .CodeMirror").wait_for(state="visible")
    page_.locator("#yasgui .yasr").wait_for(state="attached")
    page_.wait_for_function("() => window.missiekompasYasgui && window.missiekompasYasgui.getTab()")

    # Our own query, set through the page's YASGUI object and run with the editor's query button.
    page_.evaluate("query => { window.missiekompasYasgui.getTab().setQuery(query); }", CLUSTER_LABELS)
    assert "mk:TechnologyCluster" in page_.evaluate("() => window.missiekompasYasgui.getTab().getQuery()")
    page_.locator("#yasgui .yasqe_queryButton").click()
    rows = wait_for_results(page_)
    assert len(rows) == 8, rows
    assert any("Digital Technologies" in row for row in rows), rows

    # An example button fills the editor and runs its query: the table changes to that result.
    buttons = page_.locator("button[data-example]")
    assert buttons.count() >= 1
    examples = page_.evaluate("() => JSON.parse(document.getElementById('examples').textContent)")
    buttons.first.click()
    example_rows = wait_for_results(page_, previous=rows[0])
    assert example_rows, "the example query showed no result rows"
    assert page_.evaluate("() => window.missiekompasYasgui.getTab().getQuery()").strip() == \
        examples[0]["query"].strip()

    SCREENSHOT.parent.mkdir(exist_ok=True)
    page_.screenshot(path=str(SCREENSHOT), full_page=True)

    queries = [r for r in watch.requests if r.startswith("POST ") and urlsplit(r.split(" ", 1)[1]).path == "/sparql"]
    assert len(queries) >= 2, watch.requests  # both runs went to our own endpoint
    assert watch.outside == [], f"the page called other hosts: {watch.outside}"
    assert watch.failed == [], f"failed requests: {watch.failed}"
    assert watch.console_errors == [], f"console errors: {watch.console_errors}"
