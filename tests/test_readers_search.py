"""Reading proposals (search.readers): text comes out of .txt/.md/.pdf/.docx; bad files get a clear refusal."""

from __future__ import annotations

import struct
import time
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from search.readers import (
    MAX_DOCX_UNZIPPED_BYTES,
    READ_LIMITS,
    ProposalTooDemanding,
    ProposalUnreadable,
    read_proposal,
    read_text_input,
)
from search.sandbox import WorkLimits
from tests.support import (
    BODY_END,
    BODY_START,
    make_pdf,
    repeated_page_pdf,
    text_pdf,
    with_document_xml,
    word_file,
    write_element_bomb,
)

PROPOSAL = "Groene waterstof voor de industrie.\nWe bouwen een elektrolyser in Groningen."
REFUSED_WITHIN_S = 30  # on a busy two-core machine; unlimited, each bomb below takes minutes


def test_txt_and_md_come_out_stripped(tmp_path: Path) -> None:
    (tmp_path / "p.txt").write_text(f"\n  {PROPOSAL}  \n", encoding="utf-8")
    (tmp_path / "p.md").write_text("# Voorstel\r\n\r\n" + PROPOSAL, encoding="utf-8")
    assert read_proposal(tmp_path / "p.txt") == PROPOSAL
    assert read_proposal(tmp_path / "p.md") == "# Voorstel\n\n" + PROPOSAL


def test_utf8_with_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    (tmp_path / "bom.TXT").write_bytes("\ufeffCafé en crème".encode())
    assert read_proposal(tmp_path / "bom.TXT") == "Café en crème"


def test_pdf_text_comes_out(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "p.pdf")
    text = read_proposal(path)
    assert "Groene waterstof voor de industrie." in text and "elektrolyser" in text


def test_docx_paragraphs_and_table_cells_come_out_in_order(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Groene waterstof voor de industrie.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Partner"
    table.cell(0, 1).text = "Rol"
    merged = table.cell(1, 0).merge(table.cell(1, 1))
    merged.text = "TNO leidt het consortium"
    document.add_paragraph("Slotzin.")
    document.save(str(tmp_path / "p.docx"))
    lines = read_proposal(tmp_path / "p.docx").splitlines()
    assert lines == ["Groene waterstof voor de industrie.", "Partner", "Rol", "TNO leidt het consortium", "Slotzin."]


@pytest.mark.parametrize("name", ["leeg.txt", "leeg.md", "leeg.pdf", "leeg.docx"])
def test_an_empty_file_is_refused(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(ProposalUnreadable, match="the file is empty"):
        read_proposal(tmp_path / name)


def test_whitespace_only_text_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "spaces.txt").write_text("  \n\t \n", encoding="utf-8")
    with pytest.raises(ProposalUnreadable, match="the file is empty"):
        read_proposal(tmp_path / "spaces.txt")


@pytest.mark.parametrize("name", ["voorstel.odt", "voorstel.doc", "voorstel"])
def test_unsupported_types_are_refused_with_the_alternatives(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(PROPOSAL, encoding="utf-8")
    with pytest.raises(ProposalUnreadable, match=r"unsupported file type .*use \.txt, \.md, \.pdf or \.docx"):
        read_proposal(tmp_path / name)


def test_unsupported_type_message_names_the_extension(tmp_path: Path) -> None:
    (tmp_path / "x.odt").write_text(PROPOSAL, encoding="utf-8")
    with pytest.raises(ProposalUnreadable) as caught:
        read_proposal(tmp_path / "x.odt")
    assert str(caught.value) == "unsupported file type .odt: use .txt, .md, .pdf or .docx"


def test_non_utf8_text_is_refused(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("Café en crème brûlée".encode("latin-1"))
    with pytest.raises(ProposalUnreadable, match="not UTF-8 encoded .*save it as UTF-8"):
        read_proposal(tmp_path / "latin1.txt")
    (tmp_path / "utf16.txt").write_bytes(PROPOSAL.encode("utf-16"))
    with pytest.raises(ProposalUnreadable, match="UTF-16"):
        read_proposal(tmp_path / "utf16.txt")


def test_missing_and_too_large_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ProposalUnreadable, match="does not exist"):
        read_proposal(tmp_path / "weg.txt")
    (tmp_path / "groot.txt").write_text(PROPOSAL, encoding="utf-8")
    with pytest.raises(ProposalUnreadable, match="file too large"):
        read_proposal(tmp_path / "groot.txt", max_bytes=20)


def test_pdf_without_text_is_refused(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", b"0 0 1 rg 72 72 200 200 re f")  # only a filled rectangle
    with pytest.raises(ProposalUnreadable, match=r"this PDF has no extractable text \(scanned\?\)"):
        read_proposal(path)


def test_password_protected_pdf_is_refused(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(text_pdf(tmp_path / "open.pdf")))
    writer.encrypt(user_password="geheim", algorithm="RC4-128")
    writer.write(tmp_path / "locked.pdf")
    with pytest.raises(ProposalUnreadable, match="password-protected"):
        read_proposal(tmp_path / "locked.pdf")


def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(text_pdf(tmp_path / "open.pdf")))
    writer.encrypt(user_password="", owner_password="eigenaar", algorithm="RC4-128")
    writer.write(tmp_path / "owner.pdf")
    assert "elektrolyser" in read_proposal(tmp_path / "owner.pdf")


def test_damaged_pdf_is_refused(tmp_path: Path) -> None:
    (tmp_path / "kapot.pdf").write_bytes(b"this is not a PDF at all")
    with pytest.raises(ProposalUnreadable, match="damaged"):
        read_proposal(tmp_path / "kapot.pdf")


def _claim_uncompressed_size(path: Path, size: int) -> None:
    """Rewrite the 'uncompressed size' of every central-directory entry, as a zip bomb's header would read."""
    raw = bytearray(path.read_bytes())
    position = raw.find(b"PK\x01\x02")
    while position != -1:
        raw[position + 24 : position + 28] = struct.pack("<I", size)
        position = raw.find(b"PK\x01\x02", position + 4)
    path.write_bytes(bytes(raw))


def test_zip_bomb_disguised_as_docx_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "bom.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    _claim_uncompressed_size(path, 0xFFFF_FFF0)
    assert zipfile.ZipFile(path).getinfo("word/document.xml").file_size > MAX_DOCX_UNZIPPED_BYTES
    with pytest.raises(ProposalUnreadable, match="would unpack to .* may be damaged or malicious"):
        read_proposal(path)


def test_docx_that_is_not_a_word_document_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nep.docx").write_text(PROPOSAL, encoding="utf-8")
    with pytest.raises(ProposalUnreadable, match="damaged or is not a Word document"):
        read_proposal(tmp_path / "nep.docx")
    with zipfile.ZipFile(tmp_path / "leeg-zip.docx", "w") as archive:
        archive.writestr("iets.txt", "geen word")
    with pytest.raises(ProposalUnreadable, match="damaged or is not a Word document"):
        read_proposal(tmp_path / "leeg-zip.docx")


def test_docx_without_text_is_refused(tmp_path: Path) -> None:
    docx.Document().save(str(tmp_path / "leeg.docx"))
    with pytest.raises(ProposalUnreadable, match="contains no text"):
        read_proposal(tmp_path / "leeg.docx")


def test_pasted_text_is_stripped() -> None:
    assert read_text_input(f"\n  {PROPOSAL} \t") == PROPOSAL


@pytest.mark.parametrize("pasted", ["", "   ", "\n\t\n"])
def test_empty_pasted_text_is_refused(pasted: str) -> None:
    with pytest.raises(ProposalUnreadable, match="the text is empty"):
        read_text_input(pasted)


def test_too_long_pasted_text_is_refused() -> None:
    assert read_text_input("a" * 200_000) == "a" * 200_000
    with pytest.raises(ProposalUnreadable, match="too long .*200,001 characters; the limit is 200,000"):
        read_text_input("a" * 200_001)


# --- bounded work: files small in bytes that would take minutes to read -------------------------------------------

def refused(path: Path, limits: WorkLimits = READ_LIMITS) -> str:
    started = time.perf_counter()
    with pytest.raises(ProposalTooDemanding) as raised:
        read_proposal(path, limits=limits)
    assert time.perf_counter() - started < REFUSED_WITHIN_S
    return str(raised.value)


def test_docx_of_millions_of_empty_paragraphs_is_refused_by_its_element_count(tmp_path: Path) -> None:
    path = tmp_path / "bom.docx"
    path.write_bytes(with_document_xml(write_element_bomb))
    assert path.stat().st_size < 200_000
    assert refused(path) == "this .docx file has more than 500,000 XML elements (the limit); it may be damaged or malicious"


def test_docx_just_under_the_element_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "veel.docx"
    path.write_bytes(with_document_xml(lambda member: member.write(BODY_START + b"<w:p/>" * 50_000 + BODY_END)))
    assert read_proposal(path) == "Groene waterstof"


def test_pdf_with_too_many_pages_is_refused_by_its_page_count(tmp_path: Path) -> None:
    path = repeated_page_pdf(tmp_path / "pages.pdf", b"BT /F1 12 Tf 72 720 Td (Groene waterstof) Tj ET", 50_000)
    assert refused(path).startswith("this PDF has 50,000 pages (the limit is 2,000)")


def test_pdf_whose_content_would_take_minutes_is_stopped_at_the_cpu_limit(tmp_path: Path) -> None:
    """10 kB: a thousand pages that share one content stream of 250,000 text operators (minutes in pypdf)."""
    path = repeated_page_pdf(tmp_path / "druk.pdf", b"BT /F1 12 Tf 72 720 Td " + b"(a) Tj " * 250_000 + b"ET", 1_000)
    assert path.stat().st_size < 20_000
    short = WorkLimits(cpu_s=1, memory_bytes=READ_LIMITS.memory_bytes, wall_s=60)
    assert refused(path, short) == ("reading this .pdf file was stopped: it took more than 1 s of processing time; it "
                                    "may be damaged or malicious. Save it again as a plain document, or paste its text")



def test_uploads_past_the_reader_children_wait_then_are_told_the_server_is_busy(tmp_path: Path) -> None:
    """At most MAX_READING children read files at once (each may take a gigabyte); the next upload
    waits up to its wall limit for one, then gets ReadersBusy (503) instead of a child of its own."""
    from search import readers

    path = tmp_path / "plan.docx"
    path.write_bytes(word_file())
    held = [readers._READING.acquire(blocking=False) for _ in range(readers.MAX_READING)]
    try:
        assert all(held)
        with pytest.raises(readers.ReadersBusy, match="try again"):
            read_proposal(path, limits=WorkLimits(cpu_s=5, memory_bytes=1_000_000_000, wall_s=0.2))
    finally:
        for _ in held:
            readers._READING.release()
    assert "Groene waterstof" in read_proposal(path)
