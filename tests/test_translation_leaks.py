"""No text of the other language on a page: every kind of page, in Dutch and in English, read as a person reads
it (the visible text and the text read out: aria-label, alt, placeholder, title), searched for strings that have
leaked from the other language before and for raw codes (`research_institute`). Text marked with the other
language's `lang` (a name the data has only in Dutch, the language switch) is that language on purpose and is left
out, as are the reader's own pasted text, code (SPARQL, JSON, prefixed names), URLs and quotations (a note
quoting a source's own code, "Missie 2")."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from kg.store import Store
from tests.support import HTML, PROPOSAL_NL, page_kinds
from web.app import create_app

# Strings seen on pages of the other language (or likely to be): whole words or phrases, any case.
DUTCH_ON_ENGLISH = (
    "kennisvraag", "kennisvragen", "hoog", "laag", "Verwezen door", "Eigenschappen", "penvoerder", "witte vlek",
    "witte vlekken", "Bladeren", "voorbeeld", "voorbeelden", "onbekend", "Bron", "Bronnen", "Betrouwbaarheid",
    "programma", "programma's", "missie", "missies", "thema", "thema's", "organisatie", "Niet gevonden", "Geen",
    "technologiecluster", "sleuteltechnologie", "Inloggen", "Hoofdmenu", "Naar de inhoud", "Zoeken", "Uitleg")
ENGLISH_ON_DUTCH = (
    "(sample)", "sample", "samples", "Properties", "Referred to by", "question kind", "organisation kind",
    "Knowledge question", "Not found", "blank spot", "blank spots", "lead", "Source", "Sources", "Confidence",
    "Browse", "Search", "Sign in", "Skip to content", "Programme", "Organisation", "unknown", "Examples",
    "The requested URL", "Query", "(university)", "(company)")
CODE = re.compile(r"(?<![\w.-])[a-z]+(?:_[a-z]+)+(?![\w-])")  # a value's code shown as it is: research_institute
LEAKS = {"en": DUTCH_ON_ENGLISH, "nl": ENGLISH_ON_DUTCH}
OTHER = {"en": "nl", "nl": "en"}

SKIPPED = {"script", "style", "template", "textarea", "pre", "code", "kbd", "samp"}  # not prose, or the reader's own
NOT_WORDS = re.compile(r'\S*/\S*|\b[\w-]+:[\w-]+\b|"[^"]*"|“[^”]*”')  # URLs, paths, prefixed names, quotations
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
READ_OUT = ("aria-label", "alt", "placeholder", "title")


class VisibleText(HTMLParser):
    """The text of a page as a reader of `lang` meets it, without the parts marked as the other language."""

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.other = OTHER[lang]
        self.page_lang: str | None = None
        self.parts: list[str] = []
        self._open: list[tuple[str, bool]] = []  # tag, whether its content is left out

    def _leaving_out(self) -> bool:
        return bool(self._open) and self._open[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.page_lang = attributes.get("lang")
        left_out = (self._leaving_out() or tag in SKIPPED
                    or attributes.get("lang", "").split("-")[0] == self.other)
        if not left_out:
            self.parts.extend(attributes[name] for name in READ_OUT if attributes.get(name))
        if tag not in VOID:
            self._open.append((tag, left_out))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, -1, -1):  # tolerates end tags HTML lets a page leave out
            if self._open[depth][0] == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self._leaving_out():
            self.parts.append(data)


def visible_text(page: str, lang: str) -> str:
    parser = VisibleText(lang)
    parser.feed(page)
    parser.close()
    assert parser.page_lang == lang, f"the page says it is in {parser.page_lang!r}, not {lang!r}"
    return re.sub(r"\s+", " ", NOT_WORDS.sub(" ", " ".join(parser.parts)))


def leaks(text: str, lang: str) -> list[str]:
    """Each leaked string found, with a little of the text around it."""
    found = []
    for leak in LEAKS[lang]:
        for match in re.finditer(rf"(?<!\w){re.escape(leak)}(?!\w)", text, re.IGNORECASE):
            found.append(f"{leak!r} in …{text[max(0, match.start() - 40):match.end() + 40]}…")
    for match in CODE.finditer(text):
        found.append(f"code {match.group()!r} in …{text[max(0, match.start() - 40):match.end() + 40]}…")
    return found


@pytest.fixture(scope="module")
def client(search_settings: Settings, default_store: Store, public_matcher: object) -> FlaskClient:
    """The app on the default data with search (hits and similar items show), as the public sees it."""
    from kg.access import PUBLIC

    app: Flask = create_app(search_settings, store=default_store, matchers={PUBLIC: public_matcher})
    return app.test_client()


PAGES = page_kinds()


@pytest.mark.parametrize("lang", ["nl", "en"])
@pytest.mark.parametrize("name", list(PAGES))
def test_a_page_shows_no_text_of_the_other_language(client: FlaskClient, name: str, lang: str) -> None:
    path = PAGES[name]
    response = client.get(path, query_string={"lang": lang}, headers={"Accept": HTML, "Accept-Language": lang})
    assert response.status_code == (404 if name == "not-found" else 200), response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/html"
    found = leaks(visible_text(response.get_data(as_text=True), lang), lang)
    assert not found, f"{path}?lang={lang}:\n" + "\n".join(found)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_the_match_results_show_no_text_of_the_other_language(client: FlaskClient, lang: str) -> None:
    response = client.post("/match", query_string={"lang": lang}, data={"text": PROPOSAL_NL},
                           headers={"Accept": HTML, "Accept-Language": lang})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    page = response.get_data(as_text=True)
    assert 'id="results"' in page
    found = leaks(visible_text(page, lang), lang)
    assert not found, f"POST /match?lang={lang}:\n" + "\n".join(found)


def test_the_reader_finds_a_leak_outside_marked_text() -> None:
    page = ('<html lang="en"><head><title>Knowledge question</title><script>var kennisvraag;</script></head><body>'
            '<p>A question <span lang="nl">over hoog water</span></p><textarea>laag</textarea>'
            '<img alt="een voorbeeld"><p data-kind="kennisvraag">Kennisvraag<br>type: research_institute</p>'
            '<pre>programma</pre> <a href="/id/x">https://example.org/thema</a> /id/programme/geen mk:missie</body></html>')
    text = visible_text(page, "en")
    assert "hoog" not in text and "laag" not in text and "var" not in text
    assert [found.split(" in ")[0] for found in leaks(text, "en")] == ["'kennisvraag'", "'voorbeeld'",
                                                                          "code 'research_institute'"]
