"""Helpers that several test modules share: HTML parsing and escaping checks, problem+json checks, a Dutch
proposal, hand-built .docx and .pdf files (bombs included) and a watched browser page. Test modules import these
from here, never from each other; fixtures stay in conftest.py."""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable, Generator
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from tests.conftest import BASE

if TYPE_CHECKING:  # playwright is needed only by the browser tests
    from playwright import sync_api

HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TRACEBACK_SIGNS = ("Traceback (most recent call last)", 'File "/', "site-packages", "werkzeug.exceptions")
DRAFT = BASE + "programme/sample-draft-01"  # data/drafts.yaml: visibility internal
BROWSER_TIMEOUT_MS = 20_000

PROPOSAL_NL = (
    "Ons consortium ontwikkelt fotonische chips voor snellere en zuinigere datacommunicatie. Met geïntegreerde "
    "fotonica bouwen we sensoren die licht gebruiken in plaats van elektronen, voor de zorg en de industrie. We werken "
    "samen met provincies en regionale ontwikkelingsmaatschappijen om de productie in Nederland te houden. Daarnaast "
    "onderzoeken we hoe kunstmatige intelligentie het ontwerp van deze chips kan versnellen.")


# --- HTML -----------------------------------------------------------------------------------------

class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside each <script>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._in_script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._in_script = dict(attrs)
            self.scripts.append((self._in_script, ""))

    def handle_data(self, data: str) -> None:
        if self._in_script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = None


def parse_html(text: str) -> Tags:
    tags = Tags()
    tags.feed(text)
    tags.close()
    return tags


def assert_no_injected_markup(page: str) -> None:
    tags = parse_html(page)
    assert [t for t, _ in tags.tags if t in ("script", "img")] == []
    handlers = [(t, a) for t, attrs in tags.tags for a in attrs if a.lower().startswith("on")]
    assert handlers == []
    assert "<script>alert" not in page
    assert "<img src=x" not in page


def alert(page: str) -> str:
    """The text of the page's error message."""
    found = re.search(r'role="alert">(.*?)</div>', page, re.S)
    assert found, "no error message on the page"
    return re.sub(r"<[^>]+>|\s+", " ", found.group(1)).strip()


# --- problem+json ---------------------------------------------------------------------------------

def problem(response, status: int) -> str:  # noqa: ANN001
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"]
    for sign in TRACEBACK_SIGNS:
        assert sign not in response.get_data(as_text=True)
    return str(body["detail"])


# --- proposal files ------------------------------------------------------------------------------

DOCUMENT_XML = "word/document.xml"
BODY_START = (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
              b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Groene waterstof</w:t></w:r></w:p>')
BODY_END = b"</w:body></w:document>"


def word_file(paragraphs: tuple[str, ...] = ("Groene waterstof voor de industrie.",)) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    body = io.BytesIO()
    document.save(body)
    return body.getvalue()


def with_document_xml(write: Callable[[io.BufferedIOBase], None]) -> bytes:
    """A real .docx whose word/document.xml is written by `write` (streamed, so a bomb is never held in memory)."""
    body = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(word_file())) as source, \
            zipfile.ZipFile(body, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for info in source.infolist():
            if info.filename == DOCUMENT_XML:
                with target.open(DOCUMENT_XML, "w") as member:
                    write(member)
            else:
                target.writestr(info, source.read(info.filename))
    return body.getvalue()


def write_element_bomb(member: io.BufferedIOBase) -> None:
    """The issue's bomb: one paragraph of text, then eight million empty ones (48 MB of XML, under the 50 MB
    unpacked-bytes limit; python-docx spent four minutes and 1.8 GB on it)."""
    member.write(BODY_START)
    for _ in range(80):
        member.write(b"<w:p/>" * 100_000)
    member.write(BODY_END)


def make_pdf(path: Path, content: bytes) -> Path:
    """A one-page PDF written by hand, with `content` as its page content stream (Helvetica as /F1)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    path.write_bytes(pdf_document(objects))
    return path


def pdf_document(objects: list[bytes]) -> bytes:
    """A PDF file of these numbered objects (1 is the catalog), with a correct cross-reference table."""
    body = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n%s\nendobj\n" % (number, obj)
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(body)


def repeated_page_pdf(path: Path, content: bytes, pages: int) -> Path:
    """A PDF whose page tree lists one page `pages` times; the page's content stream is `content`, compressed."""
    stream = zlib.compress(content, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join([b"3 0 R"] * pages), pages),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    path.write_bytes(pdf_document(objects))
    return path


def text_pdf(path: Path) -> Path:
    return make_pdf(path, b"BT /F1 12 Tf 72 720 Td (Groene waterstof voor de industrie.) Tj "
                          b"0 -16 Td (We bouwen een elektrolyser.) Tj ET")


# --- a browser page -------------------------------------------------------------------------------

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


def watched_page(browser: sync_api.Browser, base: str, timeout_ms: int = BROWSER_TIMEOUT_MS,
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


# --- every kind of page, for the checks that walk them all (overflow, axe, links, translation) --------

ENTITY_PAGES = {  # one entity page of each kind in the default data
    "programme": "/id/programme/photondelta",
    "project": "/id/project/6g-fns",
    "mission": "/id/mission/lwv24-2-land-tuinbouw",
    "mmip": "/id/mmip/ke-mmip-go-reno",
    "question": "/id/question/nwa-101",
    "cluster": "/id/cluster/digital-technologies",
    "theme": "/id/theme/energietransitie-duurzaamheid",
    "organisation": "/id/organisation/tno",
}
MISSING_PAGE = "/no-such-page"


def page_kinds() -> dict[str, str]:
    """Name -> path of a page of every kind a GET shows (the match results page is a POST: see the tests)."""
    from kg.listing import LISTS

    return {"home": "/", "browse": "/browse", **{f"browse-{name}": f"/browse/{name}" for name in LISTS},
            **ENTITY_PAGES, "dashboard": "/dashboard", "sparql": "/sparql", "ontology": "/ontology", "api": "/api",
            "login": "/login", "not-found": MISSING_PAGE}
