"""The SPARQL editor page in a real headless browser (Debian's chromium driven by Playwright).

Opens /sparql on the real server, runs a query through YASGUI and one example button, and checks that the page
neither logs a console error nor calls any host but the server itself.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright import sync_api

SCREENSHOT = Path(__file__).with_name("screenshots") / "sparql-editor.png"
TIMEOUT_MS = 20_000

CLUSTER_LABELS = """PREFIX mk: <https://w3id.org/missiekompas/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?label WHERE { ?c a mk:TechnologyCluster ; skos:prefLabel ?label FILTER(LANG(?label) = "en") }
ORDER BY ?label"""

ROWS = "#yasgui .yasr table.dataTable tbody tr"

pytestmark = pytest.mark.slow


class Watch:
    """What the page did besides rendering: console errors, page errors, requests, failed requests."""

    def __init__(self, base: str) -> None:
        self.origin = urlsplit(base).netloc
        self.console_errors: list[str] = []
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.failed: list[str] = []

    def local(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in ("data", "blob", "about") or (parts.scheme in ("http", "https")
                                                              and parts.netloc == self.origin)

    def on_console(self, message: sync_api.ConsoleMessage) -> None:
        url = message.location.get("url", "")
        if message.type == "error":
            self.console_errors.append(f"{message.text} @ {url}")

    def on_request(self, request: sync_api.Request) -> None:
        self.requests.append(f"{request.method} {request.url}")
        if not self.local(request.url):
            self.outside.append(f"{request.method} {request.url}")

    def on_failed(self, request: sync_api.Request) -> None:
        self.failed.append(f"{request.method} {request.url}: {request.failure}")

    def on_response(self, response: sync_api.Response) -> None:
        if response.status >= 400:
            self.failed.append(f"{response.request.method} {response.url}: HTTP {response.status}")


def watched_page(browser: sync_api.Browser, base: str, timeout_ms: int = TIMEOUT_MS,
                 **options: object) -> Generator[tuple[sync_api.Page, Watch], None, Watch]:
    """A page in a fresh browser context whose console, errors and requests a Watch records (for
    `yield from` in a fixture, which gets the Watch back once the context is closed)."""
    watch = Watch(base)
    context = browser.new_context(service_workers="block", **options)
    context.set_default_timeout(timeout_ms)
    # No context.route(): intercepting requests changes what Chromium fetches (it then skips /favicon.ico), and the
    # test should see the page as a browser does. Outside calls are recorded by on_request and asserted on.
    page = context.new_page()
    page.on("console", watch.on_console)
    page.on("pageerror", lambda error: watch.console_errors.append(f"uncaught: {error}"))
    context.on("request", watch.on_request)
    context.on("requestfailed", watch.on_failed)
    context.on("response", watch.on_response)
    yield page, watch
    context.close()
    return watch


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
