"""Bad uploads through POST /api/match and the page POST /match: too large, the wrong type, not UTF-8, empty, damaged,
a PDF without text, zip bombs disguised as .docx, files small in bytes that would take minutes of work. Each is a 4xx
whose message says what is wrong (on the page in the reader's language), quickly, without a traceback and without
unpacking a bomb into memory."""

from __future__ import annotations

import io
import random
import struct
import time
import tracemalloc
import zipfile
import zlib
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from tests.support import (
    DOCUMENT_XML,
    PROPOSAL_NL,
    TRACEBACK_SIGNS,
    alert,
    make_pdf,
    pdf_document,
    repeated_page_pdf,
    text_pdf,
    with_document_xml,
    word_file,
    write_element_bomb,
)

BOMB_BYTES = 210_000_000  # what the bomb's word/document.xml unpacks to; the .docx itself is about 0.2 MB
MAX_PEAK_BYTES = 64_000_000  # Python memory a refused upload may use at its peak
XML_START = (b'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/'
             b'wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>')
XML_END = b"</w:t></w:r></w:p></w:body></w:document>"


@pytest.fixture
def client(search_app: Flask) -> FlaskClient:
    return search_app.test_client()


# --- the files ----------------------------------------------------------------------------------

def zip_of(members: dict[str, bytes]) -> bytes:
    body = io.BytesIO()
    with zipfile.ZipFile(body, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return body.getvalue()


def write_bomb(member: io.BufferedIOBase) -> None:
    member.write(XML_START)
    chunk = b"A" * 1_000_000
    for _ in range(BOMB_BYTES // len(chunk)):
        member.write(chunk)
    member.write(XML_END)


def member_headers(archive: bytes, name: str) -> tuple[int, int]:
    """Offsets of `name`'s local file header and of its central directory entry."""
    with zipfile.ZipFile(io.BytesIO(archive)) as opened:
        local = opened.getinfo(name).header_offset
    central = archive.find(b"PK\x01\x02")
    while central >= 0:
        length = struct.unpack_from("<H", archive, central + 28)[0]
        if archive[central + 46:central + 46 + length] == name.encode():
            return local, central
        central = archive.find(b"PK\x01\x02", central + 4)
    raise AssertionError(f"{name} is not in the central directory")


def patch_member(archive: bytes, name: str, fmt: str, value: int, *, local: int | None = None,
                 central: int | None = None) -> bytes:
    """`archive` with one field of `name` overwritten, `local` bytes into its local header and `central` bytes into
    its central directory entry (the zip format's offsets: 8 method, 18 compressed size, 22 size in a local header)."""
    raw = bytearray(archive)
    at_local, at_central = member_headers(archive, name)
    if local is not None:
        struct.pack_into(fmt, raw, at_local + local, value)
    if central is not None:
        struct.pack_into(fmt, raw, at_central + central, value)
    return bytes(raw)


def garble_member(archive: bytes, name: str) -> bytes:
    """`archive` with 24 bytes a third into `name`'s compressed data overwritten: the deflate stream breaks."""
    raw = bytearray(archive)
    at_local, at_central = member_headers(archive, name)
    name_length, extra_length = struct.unpack_from("<HH", raw, at_local + 26)
    compressed = struct.unpack_from("<I", raw, at_central + 20)[0]
    start = at_local + 30 + name_length + extra_length + compressed // 3
    raw[start:start + 24] = b"\xff" * 24
    return bytes(raw)


def pdf_bytes(content: bytes, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_pdf(tmp_path_factory.mktemp("pdf") / "p.pdf", content).read_bytes()


def flate_bomb_pdf() -> bytes:
    """A one-page PDF whose compressed content stream unpacks to 200 MB of spaces."""
    packer = zlib.compressobj(9)
    stream = packer.compress(b"BT /F1 12 Tf 72 720 Td (Groene waterstof) Tj ET\n")
    stream += b"".join(packer.compress(b" " * 1_000_000) for _ in range(200)) + packer.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
               b"/Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(stream), stream),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    return pdf_document(objects)


LAUGHS = b"".join(b'<!ENTITY l%d "%s">' % (n, b"".join(b"&l%d;" % (n - 1) for _ in range(10))) for n in range(1, 10))
BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY l0 "lol">' + LAUGHS + b"]>"
                  + XML_START.split(b"?>", 1)[1] + b"&l9;" + XML_END)
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """Every bad file by case name, built once."""
    a_pdf = text_pdf(tmp_path_factory.mktemp("pdf") / "t.pdf").read_bytes()
    a_docx = word_file()
    bomb = with_document_xml(write_bomb)
    return {
        "exe": b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"This program cannot be run in DOS mode",
        "png-as-pdf": PNG + b"\x00" * 200,
        "latin-1": "Één voorstel over de Zürichse waterstofeconomie, à la carte.".encode("latin-1"),
        "utf-16": "Een voorstel over waterstof.".encode("utf-16"),
        "binary-as-txt": b"ELF\x00\x00\x00binary\x00data",
        "empty-txt": b"",
        "blank-md": b"  \n\t\r\n  ",
        "empty-docx": b"",
        "not-a-zip": b"This is plain text with a .docx name.",
        "zip-without-document": zip_of({"hello.txt": b"hi"}),
        "truncated-docx": a_docx[: len(a_docx) // 2],
        "docx-without-text": word_file(()),
        "billion-laughs": with_document_xml(lambda member: member.write(BILLION_LAUGHS)),
        "zip-bomb": bomb,
        "lying-zip-bomb": patch_member(bomb, DOCUMENT_XML, "<I", 2_000, local=22, central=24),  # the size it declares
        "garbled-docx": garble_member(a_docx, DOCUMENT_XML),
        "docx-unknown-compression": patch_member(a_docx, DOCUMENT_XML, "<H", 97, local=8, central=10),
        "docx-encrypted-member": patch_member(a_docx, DOCUMENT_XML, "<H", 1, central=8),  # flag bit 0: encrypted
        "pdf-without-text": pdf_bytes(b"", tmp_path_factory),
        "truncated-pdf": a_pdf[: len(a_pdf) * 2 // 3],
        "pdf-bomb": flate_bomb_pdf(),
        "pdf-bad-trailer": a_pdf.replace(b"trailer\n<<", b"trailer\n-<"),
        "element-bomb": with_document_xml(write_element_bomb),
        "page-bomb": repeated_page_pdf(tmp_path_factory.mktemp("pdf") / "pages.pdf",
                                       b"BT /F1 12 Tf 72 720 Td (Groene waterstof) Tj ET", 50_000).read_bytes(),
    }


# --- sending them -------------------------------------------------------------------------------

def upload(client: FlaskClient, path: str, data: bytes, name: str, lang: str = "en") -> TestResponse:
    return client.post(path, data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data",
                       headers={"Accept-Language": lang})


def assert_no_traceback(response: TestResponse) -> None:
    text = response.get_data(as_text=True)
    for sign in (*TRACEBACK_SIGNS, "Traceback", 'File "'):
        assert sign not in text, f"traceback text in the answer: {text[:300]}"


def api_refusal(response: TestResponse, status: int) -> str:
    """The problem's detail, after checking the status, the media type and that nothing internal shows."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    assert_no_traceback(response)
    return str(body["detail"])


def page_refusal(response: TestResponse, status: int) -> str:
    """The page's error message, after checking the status, that it is the form again and that nothing internal shows."""
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    assert 'id="match-form"' in response.get_data(as_text=True)
    assert_no_traceback(response)
    return alert(response.get_data(as_text=True))


UNREADABLE_NL = "kan niet gelezen worden"
# (case, file name, status, what the API's detail says, what the Dutch page says)
REFUSED = [
    ("exe", "tool.exe", 415, "File type .exe is not supported", "Bestandstype .exe wordt niet ondersteund"),
    ("png-as-pdf", "proposal.pdf", 400, "this PDF cannot be read", UNREADABLE_NL),
    ("latin-1", "proposal.txt", 400, "not UTF-8 encoded (unexpected byte 0xC9 at position 0)", UNREADABLE_NL),
    ("utf-16", "proposal.txt", 400, "UTF-16 encoded: save it as UTF-8", UNREADABLE_NL),
    ("binary-as-txt", "proposal.txt", 400, "contains binary data", UNREADABLE_NL),
    ("empty-txt", "proposal.txt", 400, "the file is empty", UNREADABLE_NL),
    ("blank-md", "proposal.md", 400, "only whitespace", UNREADABLE_NL),
    ("empty-docx", "proposal.docx", 400, "the file is empty", UNREADABLE_NL),
    ("not-a-zip", "proposal.docx", 400, "not a Word document", UNREADABLE_NL),
    ("zip-without-document", "proposal.docx", 400, "not a Word document", UNREADABLE_NL),
    ("truncated-docx", "proposal.docx", 400, "not a Word document", UNREADABLE_NL),
    ("docx-without-text", "proposal.docx", 400, "contains no text", UNREADABLE_NL),
    ("billion-laughs", "proposal.docx", 400, "not a Word document", UNREADABLE_NL),
    ("zip-bomb", "proposal.docx", 400, "MB (the limit is 50.0 MB); it may be damaged or malicious", UNREADABLE_NL),
    ("lying-zip-bomb", "proposal.docx", 400, "not a Word document", UNREADABLE_NL),
    ("pdf-without-text", "proposal.pdf", 400, "no extractable text", UNREADABLE_NL),
    ("truncated-pdf", "proposal.pdf", 400, "this PDF cannot be read", UNREADABLE_NL),
    ("pdf-bomb", "proposal.pdf", 400, "this PDF cannot be read", UNREADABLE_NL),
    # small in bytes, minutes of work: refused by a count before the parser builds it all (413, like a file too large)
    ("element-bomb", "proposal.docx", 413, "more than 500,000 XML elements (the limit); it may be damaged or malicious",
     UNREADABLE_NL),
    ("page-bomb", "proposal.pdf", 413, "this PDF has 50,000 pages (the limit is 2,000)", UNREADABLE_NL),
]
# Files whose parsers raise their own errors (once let through as a 500), now refused as damaged.
DAMAGED = [("garbled-docx", "proposal.docx", "zlib.error"),
            ("docx-unknown-compression", "proposal.docx", "NotImplementedError"),
            ("docx-encrypted-member", "proposal.docx", "RuntimeError"),
            ("pdf-bad-trailer", "proposal.pdf", "AttributeError")]
BAD_FILES = [
    *(pytest.param(*row, id=row[0]) for row in REFUSED),
    *(pytest.param(case, name, 400, "The file cannot be read", UNREADABLE_NL, id=case) for case, name, _ in DAMAGED),
]


@pytest.mark.parametrize(("case", "name", "status", "detail", "dutch"), BAD_FILES)
def test_a_bad_file_is_refused_by_the_api(client: FlaskClient, files: dict[str, bytes], case: str, name: str,
                                          status: int, detail: str, dutch: str) -> None:
    started = time.perf_counter()
    response = upload(client, "/api/match", files[case], name)
    assert detail in api_refusal(response, status)
    assert time.perf_counter() - started < 10


@pytest.mark.parametrize(("case", "name", "status", "detail", "dutch"), BAD_FILES)
def test_a_bad_file_is_refused_on_the_page_in_the_readers_language(client: FlaskClient, files: dict[str, bytes], case: str,
                                                                   name: str, status: int, detail: str, dutch: str) -> None:
    assert dutch in page_refusal(upload(client, "/match", files[case], name, lang="nl"), status)
    assert detail in page_refusal(upload(client, "/match", files[case], name, lang="en"), status)


# --- too large ----------------------------------------------------------------------------------

def test_a_file_over_the_body_limit_is_413(client: FlaskClient, search_app: Flask) -> None:
    big = b"waterstof " * (search_app.config["MAX_CONTENT_LENGTH"] // 10 + 1)
    assert "larger than the limit of 1.0 MB" in api_refusal(upload(client, "/api/match", big, "big.txt"), 413)
    assert "larger than the limit of 1.0 MB" in page_refusal(upload(client, "/match", big, "big.txt"), 413)
    assert "groter dan de grens van" in page_refusal(upload(client, "/match", big, "big.txt", "nl"), 413)


def test_a_json_body_over_the_limit_is_413(client: FlaskClient, search_app: Flask) -> None:
    text = "waterstof " * (search_app.config["MAX_CONTENT_LENGTH"] // 10 + 1)
    assert "larger than the limit" in api_refusal(client.post("/api/match", json={"text": text}), 413)


def test_a_pasted_text_over_the_body_limit_is_413(client: FlaskClient, search_app: Flask) -> None:
    text = "waterstof " * (search_app.config["MAX_CONTENT_LENGTH"] // 10 + 1)
    assert "larger than the limit" in api_refusal(client.post("/api/match", data={"text": text}), 413)
    response = client.post("/match", data={"text": text}, headers={"Accept-Language": "nl"})
    assert "groter dan de grens" in page_refusal(response, 413)


# --- empty --------------------------------------------------------------------------------------

@pytest.mark.parametrize("form", [{"text": ""}, {"text": " \n\t "}, {"file": (io.BytesIO(b""), "")}],
                         ids=["empty", "blank", "no-file-chosen"])
def test_no_text_is_400_on_both(client: FlaskClient, form: dict) -> None:
    def sent() -> dict:
        return {k: (io.BytesIO(v[0].getvalue()), v[1]) if isinstance(v, tuple) else v for k, v in form.items()}

    api = client.post("/api/match", data=sent(), content_type="multipart/form-data")
    assert "text is empty" in api_refusal(api, 400)
    page = client.post("/match", data=sent(), content_type="multipart/form-data", headers={"Accept-Language": "nl"})
    assert "De tekst is leeg" in page_refusal(page, 400)


# --- bombs stay packed --------------------------------------------------------------------------

def peak_memory_of(send: Callable[[], TestResponse]) -> tuple[TestResponse, int]:
    tracemalloc.start()
    try:
        response = send()
        return response, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("case", ["zip-bomb", "billion-laughs"])
def test_a_docx_bomb_is_refused_without_unpacking_it(client: FlaskClient, files: dict[str, bytes], case: str) -> None:
    response, peak = peak_memory_of(lambda: upload(client, "/api/match", files[case], "proposal.docx"))
    api_refusal(response, 400)
    assert peak < MAX_PEAK_BYTES, f"{peak / 1e6:.0f} MB at the peak"


def test_a_docx_bomb_that_understates_its_size_is_refused_without_unpacking_it(client: FlaskClient,
                                                                                files: dict[str, bytes]) -> None:
    response, peak = peak_memory_of(lambda: upload(client, "/api/match", files["lying-zip-bomb"], "proposal.docx"))
    api_refusal(response, 400)
    assert peak < MAX_PEAK_BYTES, f"{peak / 1e6:.0f} MB at the peak"


def test_a_pdf_bomb_is_stopped_at_pypdfs_output_limit(client: FlaskClient, files: dict[str, bytes]) -> None:
    # pypdf stops inflating a stream at its own limit (75 MB), and does so in the reading child (search.sandbox):
    # the server process itself holds none of it.
    response, peak = peak_memory_of(lambda: upload(client, "/api/match", files["pdf-bomb"], "proposal.pdf"))
    api_refusal(response, 400)
    assert peak < 200_000_000, f"{peak / 1e6:.0f} MB at the peak"


# --- damaged copies of good files ---------------------------------------------------------------

FUZZ_EXAMPLES = 30


@pytest.fixture(scope="module")
def good_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    return {".docx": word_file(("Groene waterstof voor de industrie.", "We bouwen een elektrolyser in Groningen.")),
            ".pdf": text_pdf(tmp_path_factory.mktemp("pdf") / "good.pdf").read_bytes()}


@pytest.mark.parametrize("suffix", [
    ".docx", ".pdf"])
def test_damaged_copies_of_a_good_file_never_fail_the_server(client: FlaskClient, good_files: dict[str, bytes],
                                                             suffix: str) -> None:
    """Bytes overwritten here and there, and now and then the file cut short: matched (200) or refused (4xx), never
    a 5xx. The damage is drawn from a seed, so that it falls anywhere in the file, not mostly in its first bytes."""
    good = good_files[suffix]

    @settings(max_examples=FUZZ_EXAMPLES, derandomize=True, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(seed=st.integers(0, 2**32 - 1))
    def send(seed: int) -> None:
        rng = random.Random(seed)
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[:rng.randint(1, len(data))]
        response = upload(client, "/api/match", bytes(data), "proposal" + suffix)
        assert response.status_code == 200 or 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
        assert_no_traceback(response)

    send()


def test_a_good_file_after_the_bad_ones_is_still_matched(client: FlaskClient) -> None:
    response = upload(client, "/api/match", PROPOSAL_NL.encode(), "voorstel.txt")
    assert response.status_code == 200 and response.get_json()["language"] == "nl"
