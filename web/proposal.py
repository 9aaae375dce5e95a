"""A match request from HTTP: the proposal (pasted text or an uploaded file), filters and the number of hits.

Every refusal names its catalogue message, so a page shows it in the reader's language and the API in English.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from flask import request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from kg.uris import checked_iri, is_slug, mint_uri
from search.match import Filters
from search.readers import (
    SUFFIXES,
    EmptyText,
    ProposalTooDemanding,
    ProposalUnreadable,
    TextTooLong,
    read_proposal,
    read_text_input,
)
from search.result import SAMPLES
from web.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType
from web.i18n import message

KINDS = ("question", "programme", "project", "mission", "mmip", "kem")
FACETS = {"cluster": "cluster", "theme": "theme", "mission": "mission"}  # filter field -> URI path of its values
DEFAULT_TOP = 10
MAX_TOP = 50


class Refusal(Exception):
    """Mixed into an HTTP error: its catalogue key and the values the message needs."""

    key: ClassVar[str]

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(message(self.key, "en", **params))

    def text(self, lang: str) -> str:
        return message(self.key, lang, **self.params)


class EmptyProposal(Refusal, BadRequest):
    key = "error.empty"


class ProposalTooLong(Refusal, PayloadTooLarge):
    key = "error.too_long"


class BodyTooLarge(Refusal, PayloadTooLarge):
    key = "error.body_too_large"


class WrongFileType(Refusal, UnsupportedMediaType):
    key = "error.file_type"


class UnreadableProposal(Refusal, BadRequest):
    key = "error.unreadable"


class FileTooDemanding(Refusal, PayloadTooLarge):
    """A file that would take too much work to read (elements, pages, CPU time, memory): 413, as one too large."""

    key = "error.unreadable"


class InvalidOption(Refusal, BadRequest):
    key = "error.option"


@dataclass(frozen=True)
class MatchRequest:
    """What was asked, as the form shows it again: the text, the chosen filter values, `top` and whether
    sample records are included (marked) or left out."""

    text: str = ""
    kinds: tuple[str, ...] = ()
    chosen: dict[str, tuple[str, ...]] = field(default_factory=dict)  # facet -> IRIs
    top: int = DEFAULT_TOP
    samples: str = "include"  # or "exclude" (search.result.SAMPLES)

    def filters(self) -> Filters:
        return Filters(kinds=self.kinds, clusters=self.chosen.get("cluster", ()), themes=self.chosen.get("theme", ()),
                       missions=self.chosen.get("mission", ()), include_samples=self.samples != "exclude")


def read_options(get_list: Callable[[str], list[str]], base: str) -> MatchRequest:
    """Filters, `top` and `samples` from form fields or query parameters (`kind`, `cluster`, `theme`, `mission`,
    `top`, `samples`); cluster, theme and mission values are IRIs or ids; `samples` is include (the default:
    sample records are shown, marked) or exclude (left out of every section and explanation)."""
    kinds = tuple(dict.fromkeys(k for k in get_list("kind") if k))
    wrong = [k for k in kinds if k not in KINDS]
    if wrong:
        raise InvalidOption(name="kind", value=wrong[0], allowed=", ".join(KINDS))
    chosen = {facet: tuple(dict.fromkeys(_iri(base, path, facet, v) for v in get_list(facet) if v))
              for facet, path in FACETS.items()}
    tops = [t for t in get_list("top") if t]
    try:
        top = int(tops[0]) if tops else DEFAULT_TOP
    except ValueError:
        top = 0
    if not 1 <= top <= MAX_TOP:
        raise InvalidOption(name="top", value=tops[0] if tops else "", allowed=f"1-{MAX_TOP}")
    samples = [s for s in get_list("samples") if s]
    if samples and samples[0] not in SAMPLES:
        raise InvalidOption(name="samples", value=samples[0], allowed=", ".join(SAMPLES))
    return MatchRequest(kinds=kinds, chosen={k: v for k, v in chosen.items() if v}, top=top,
                        samples=samples[0] if samples else "include")


def _iri(base: str, path: str, facet: str, value: str) -> str:
    if value.startswith((base, "http://", "https://")):
        return checked_iri(value)
    if not is_slug(value):
        raise InvalidOption(name=facet, value=value, allowed=f"ids or IRIs of {path}s")
    return str(mint_uri(base, path, value))


def read_form_request(base: str, max_body_bytes: int) -> MatchRequest:
    """A form POST (urlencoded or multipart): an uploaded file wins over pasted text."""
    try:
        form, files = request.form, request.files
    except RequestEntityTooLarge:
        raise BodyTooLarge(limit=_megabytes(max_body_bytes)) from None
    options = read_options(form.getlist, base)
    upload = files.get("file")
    text = read_upload(upload, max_body_bytes) if upload is not None and upload.filename else form.get("text", "")
    return replace(options, text=check_text(text))


def read_json_request(base: str) -> MatchRequest:
    """A JSON body: {"text": ..., "top": ..., "kind": [...], "cluster": [...], "theme": [...], "mission": [...],
    "samples": "include" | "exclude"}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object; send {\"text\": \"...\"}")

    def get_list(name: str) -> list[str]:
        value = body.get(name)
        values = value if isinstance(value, list) else [] if value is None else [value]
        return [str(v) for v in values]

    options = read_options(get_list, base)
    text = body.get("text")
    return replace(options, text=check_text(text if isinstance(text, str) else ""))


@dataclass(frozen=True)
class PartnersRequest:
    """A partner search: the proposal, the organisations already in the consortium (names, ids or IRIs), how
    many to suggest and whether samples are included."""

    text: str = ""
    have: tuple[str, ...] = ()
    top: int = DEFAULT_TOP
    samples: str = "include"

    @property
    def include_samples(self) -> bool:
        return self.samples != "exclude"


def split_names(values: list[str]) -> tuple[str, ...]:
    """Organisation names as a form gives them: one a line or separated by semicolons, each once."""
    return tuple(dict.fromkeys(n.strip() for v in values for n in re.split(r"[\n;]", v) if n.strip()))


def read_partners_json(base: str) -> PartnersRequest:
    """A JSON body: {"text": ..., "have": [names, ids or IRIs], "top": ..., "samples": "include" | "exclude"}."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadRequest("the body is not a JSON object; send {\"text\": \"...\", \"have\": [\"TNO\"]}")
    have = body.get("have", [])
    have = [have] if isinstance(have, str) else have
    if not isinstance(have, list) or not all(isinstance(n, str) for n in have):
        raise BadRequest("have is a list of organisation names, ids or IRIs, e.g. [\"TNO\", \"tu-delft\"]")
    top, samples = body.get("top"), body.get("samples")
    options = read_options(lambda name: [str(v) for v in ((top,) if name == "top" else (samples,) if name == "samples"
                                                         else ()) if v is not None], base)
    text = body.get("text")
    return PartnersRequest(check_text(text if isinstance(text, str) else ""), split_names(have), options.top,
                           options.samples)


def check_text(text: str) -> str:
    """`read_text_input`, with its refusals as the catalogue's."""
    try:
        return read_text_input(text)
    except EmptyText:
        raise EmptyProposal() from None
    except TextTooLong as exc:
        raise ProposalTooLong(length=exc.length, limit=exc.limit) from None


def read_upload(upload: FileStorage, max_bytes: int) -> str:
    """The text of an uploaded .txt, .md, .pdf or .docx file, read from a private temporary copy."""
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in SUFFIXES:
        raise WrongFileType(suffix=suffix or "(none)", allowed=", ".join(SUFFIXES))
    with tempfile.TemporaryDirectory(prefix="mk-upload-") as folder:
        path = Path(folder) / f"proposal{suffix}"  # never the client's file name on disk
        upload.save(path)
        try:
            return read_proposal(path, max_bytes=max_bytes)
        except ProposalTooDemanding as exc:
            raise FileTooDemanding(reason=str(exc)) from None
        except ProposalUnreadable as exc:
            raise UnreadableProposal(reason=str(exc)) from None


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"
