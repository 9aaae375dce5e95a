"""Getting the plain text of a researcher's proposal: an uploaded .txt, .md, .pdf or .docx file, or pasted text.

Every refusal is a ProposalUnreadable whose message says, in plain words, what is wrong and what to do.
A .pdf or .docx is parsed in a child process under READ_LIMITS (search.sandbox): a file that fits every byte limit
can still ask for minutes of work, and only a limit on the process bounds that for any parser and any trick.
"""

from __future__ import annotations

import threading
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from kg.errors import KgError
from search.sandbox import WorkLimitExceeded, WorkLimits, run_limited

if TYPE_CHECKING:  # pypdf and python-docx are imported when a file of their kind is read
    from docx.table import Table, _Cell
    from pypdf import PdfReader

SUFFIXES = (".txt", ".md", ".pdf", ".docx")
MAX_FILE_BYTES = 5_000_000
MAX_TEXT_CHARS = 200_000
MAX_DOCX_UNZIPPED_BYTES = 50_000_000  # all members of a .docx together, as the zip directory declares them
MAX_DOCX_MEMBERS = 2_000
# Work, not bytes: a proposal of MAX_TEXT_CHARS in Word has about 70,000 elements and parses in 0.4 s; eight million
# empty paragraphs (71 kB zipped) take python-docx minutes and gigabytes, 490,000 of them 4.7 s (near cpu_s below).
MAX_DOCX_ELEMENTS = 500_000  # start tags over all parts of a .docx, counted while unpacking, before python-docx
MAX_PDF_PAGES = 2_000
READ_LIMITS = WorkLimits(cpu_s=5, memory_bytes=1_000_000_000, wall_s=15.0)  # one .pdf or .docx read, in its child


MAX_READING = 2  # .pdf/.docx children at once per server process: each may take READ_LIMITS' memory
_READING = threading.BoundedSemaphore(MAX_READING)


class ReadersBusy(KgError):
    """Every reader child is busy with another upload (a server-side state: 503, try again)."""


class ProposalUnreadable(Exception):
    """The proposal cannot be turned into text; the message is meant for the researcher."""


class ProposalTooDemanding(ProposalUnreadable):
    """Reading the file would take more work (elements, pages, CPU time, memory) than any proposal needs."""


class EmptyText(ProposalUnreadable):
    """Pasted text that is empty or only whitespace."""


class TextTooLong(ProposalUnreadable):
    """Pasted text longer than the limit; `length` and `limit` are in characters."""

    def __init__(self, length: int, limit: int) -> None:
        self.length, self.limit = length, limit
        super().__init__(f"the text is too long ({length:,} characters; the limit is {limit:,}): "
                         "shorten it or upload a file")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _check_file(path: Path, max_bytes: int) -> str:
    """The lowercase suffix of a readable, non-empty file within the size limit."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        shown = suffix or "without an extension"
        raise ProposalUnreadable(f"unsupported file type {shown}: use .txt, .md, .pdf or .docx")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise ProposalUnreadable(f"the file {path.name} does not exist") from None
    except OSError as exc:
        raise ProposalUnreadable(f"the file {path.name} cannot be read ({exc.strerror})") from exc
    if not path.is_file():
        raise ProposalUnreadable(f"{path.name} is not a file")
    if size == 0:
        raise ProposalUnreadable("the file is empty")
    if size > max_bytes:
        raise ProposalUnreadable(f"file too large ({_megabytes(size)}; the limit is {_megabytes(max_bytes)})")
    return suffix


def read_proposal(path: Path, max_bytes: int = MAX_FILE_BYTES, limits: WorkLimits = READ_LIMITS) -> str:
    """The text of a proposal file (.txt, .md, .pdf, .docx), stripped; ProposalUnreadable if there is none.
    A .pdf or .docx is read in a child process under `limits`."""
    path = Path(path)
    suffix = _check_file(path, max_bytes)
    if suffix not in (".pdf", ".docx"):
        return _read_plain(path)
    if not _READING.acquire(timeout=limits.wall_s):
        raise ReadersBusy(f"the server is already reading {MAX_READING} files; try again in a moment") from None
    try:
        return run_limited(_read_document, path, limits, passes=(ProposalUnreadable,))
    except WorkLimitExceeded as exc:
        raise ProposalTooDemanding(
            f"reading this {suffix} file was stopped: {exc}; it may be damaged or malicious. "
            "Save it again as a plain document, or paste its text") from None
    finally:
        _READING.release()


def _read_document(path: Path) -> str:
    """The text of a .pdf or .docx; this runs in the child process."""
    return _read_pdf(path) if path.suffix.lower() == ".pdf" else _read_docx(path)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ProposalUnreadable(f"the file {path.name} cannot be read ({exc.strerror})") from exc


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without a byte-order mark); anything else is refused with a hint."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ProposalUnreadable("this text file is UTF-16 encoded: save it as UTF-8 and try again")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProposalUnreadable(
            f"this text file is not UTF-8 encoded (unexpected byte 0x{raw[exc.start]:02X} at position {exc.start}): "
            "save it as UTF-8 and try again"
        ) from None
    if text.startswith("\ufeff"):
        text = raw.decode("utf-8-sig")
    if "\x00" in text:
        raise ProposalUnreadable("this does not look like a text file (it contains binary data)")
    return text


def _read_plain(path: Path) -> str:
    text = _decode(_read_bytes(path)).replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ProposalUnreadable("the file is empty (it contains only whitespace)")
    return text


@contextmanager
def _pdf_failures() -> Iterator[None]:
    """pypdf's failures, opening a file or reading its pages, as the two refusals a researcher can act on."""
    from pypdf.errors import DependencyError, PyPdfError

    try:
        yield
    except DependencyError as exc:
        raise ProposalUnreadable("this PDF is encrypted in a way that cannot be read here: save an unencrypted copy") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, OSError, AttributeError, IndexError, RecursionError) as exc:
        raise ProposalUnreadable("this PDF cannot be read (the file seems damaged)") from exc


def _open_pdf(path: Path) -> PdfReader:
    """A PdfReader, decrypted if it only has an owner password."""
    from pypdf import PdfReader

    with _pdf_failures():
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise ProposalUnreadable("this PDF is password-protected: remove the password and try again")
    return reader


def _read_pdf(path: Path) -> str:
    reader = _open_pdf(path)
    with _pdf_failures():
        if (count := len(reader.pages)) > MAX_PDF_PAGES:
            raise ProposalTooDemanding(f"this PDF has {count:,} pages (the limit is {MAX_PDF_PAGES:,}); "
                                       "send the proposal itself, without annexes")
        pages = [page.extract_text() or "" for page in reader.pages]
    text = "\n\n".join(page.strip() for page in pages if page.strip())
    if not text:
        raise ProposalUnreadable("this PDF has no extractable text (scanned?): use a PDF with a text layer, or .docx/.txt")
    return text


def _check_docx_zip(path: Path) -> None:
    """Refuse a .docx that is not a zip, or whose members would unpack to too much (a zip bomb), before parsing."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise ProposalUnreadable("this .docx file is damaged or is not a Word document") from exc
    if len(members) > MAX_DOCX_MEMBERS:
        raise ProposalUnreadable(f"this .docx file has too many parts ({len(members)}); it may be damaged or malicious")
    unpacked = sum(member.file_size for member in members)
    if unpacked > MAX_DOCX_UNZIPPED_BYTES:
        raise ProposalUnreadable(
            f"this .docx file would unpack to {_megabytes(unpacked)} (the limit is {_megabytes(MAX_DOCX_UNZIPPED_BYTES)}); "
            "it may be damaged or malicious"
        )
    if "word/document.xml" not in {member.filename for member in members}:
        raise ProposalUnreadable("this .docx file is damaged or is not a Word document")
    _unpack_within_limit(path)


def _unpack_within_limit(path: Path) -> None:
    """Unpack every member in small pieces, counting the real bytes and the XML elements: a zip that understates its
    sizes is stopped at the limit with little memory, a part packed with millions of tiny elements is stopped before
    python-docx builds them all, and a damaged member (bad data, CRC, an unknown or encrypted compression) is refused
    here rather than deep inside the Word reader."""
    total = elements = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.infolist():
                with archive.open(member) as stream:
                    while piece := stream.read(1 << 20):
                        total += len(piece)
                        elements += _count_start_tags(piece)
                        if total > MAX_DOCX_UNZIPPED_BYTES:
                            raise ProposalUnreadable(
                                f"this .docx file unpacks to more than {_megabytes(MAX_DOCX_UNZIPPED_BYTES)} (more than "
                                "its own table of contents says); it may be damaged or malicious")
                        if elements > MAX_DOCX_ELEMENTS:
                            raise ProposalTooDemanding(
                                f"this .docx file has more than {MAX_DOCX_ELEMENTS:,} XML elements (the limit); "
                                "it may be damaged or malicious")
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError, ValueError) as exc:
        raise ProposalUnreadable("this .docx file is damaged or is not a Word document") from exc


def _count_start_tags(piece: bytes) -> int:
    """Start tags, comments and the like in a piece of XML: every '<' that does not open an end tag. All parts are
    counted, images too (whose stray '<' bytes add a little), so no content type hides a part. An end tag split
    between two pieces counts as a start tag: the count errs upwards, by one a megabyte at most."""
    return piece.count(b"<") - piece.count(b"</")


def _cell_texts(cell: _Cell, seen: set[object]) -> list[str]:
    """Paragraphs of a table cell, nested tables included; a merged cell (repeated in row.cells) is read once.

    `seen` holds the cells' XML elements themselves (not their id()s): keeping them alive keeps lxml's proxies stable.
    """
    from docx.table import Table

    if cell._tc in seen:
        return []
    seen.add(cell._tc)
    texts: list[str] = []
    for item in cell.iter_inner_content():
        texts.extend(_table_texts(item, seen) if isinstance(item, Table) else [item.text])
    return texts


def _table_texts(table: Table, seen: set[object]) -> list[str]:
    return [text for row in table.rows for cell in row.cells for text in _cell_texts(cell, seen)]


def _read_docx(path: Path) -> str:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table

    _check_docx_zip(path)
    try:
        document = docx.Document(str(path))
        parts: list[str] = []
        for item in document.iter_inner_content():
            parts.extend(_table_texts(item, set()) if isinstance(item, Table) else [item.text])
    except (PackageNotFoundError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, KeyError,
            ValueError, OSError, SyntaxError) as exc:  # lxml: SyntaxError
        raise ProposalUnreadable("this .docx file is damaged or is not a Word document") from exc
    text = "\n".join(part.strip() for part in parts if part.strip())
    if not text:
        raise ProposalUnreadable("this Word document contains no text")
    return text


def read_text_input(text: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """Pasted proposal text, stripped; EmptyText when there is none, TextTooLong over `max_chars` characters."""
    stripped = text.strip()
    if not stripped:
        raise EmptyText("the text is empty: paste the proposal text or upload a file")
    if len(stripped) > max_chars:
        raise TextTooLong(len(stripped), max_chars)
    return stripped
