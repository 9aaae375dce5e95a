"""Dutch and English (web/i18n.py, web/messages.py): the catalogue is complete, and the language comes from
?lang= (remembered in a cookie), then the cookie, then Accept-Language."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from web.i18n import COOKIE, LANGUAGES, format_number, message
from web.messages import MESSAGES

TEMPLATES = Path(__file__).parent.parent / "web" / "templates"
PAGES = ["/", "/browse", "/browse/themes", "/dashboard", "/id/theme/gezondheid-zorg"]
HTML = "text/html,application/xhtml+xml,*/*;q=0.8"


@pytest.fixture
def client(default_app: Flask) -> FlaskClient:
    return default_app.test_client()


def lang_of(response) -> str:  # noqa: ANN001
    found = re.search(r'<html lang="(\w+)">', response.get_data(as_text=True))
    assert found
    return found.group(1)


def test_every_message_is_in_both_languages_with_the_same_fields() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGUAGES), key
        fields = [{f for _, f, _, _ in string.Formatter().parse(texts[lang]) if f} for lang in LANGUAGES]
        assert fields[0] == fields[1], key


def test_every_key_the_templates_name_is_in_the_catalogue() -> None:
    used = {key for path in TEMPLATES.glob("*.html")
            for key in re.findall(r"""\bt\(\s*["']([a-z0-9_.-]+)["']\s*[,)]""", path.read_text(encoding="utf-8"))}
    assert used, "no t() calls found"
    assert sorted(used - set(MESSAGES)) == []


def test_python_message_keys_are_in_the_catalogue() -> None:
    from web import proposal

    for refusal in (proposal.EmptyProposal, proposal.ProposalTooLong, proposal.BodyTooLarge, proposal.WrongFileType,
                    proposal.UnreadableProposal, proposal.InvalidOption):
        assert refusal.key in MESSAGES


def test_message_fills_in_and_falls_back() -> None:
    assert message("browse.showing", "nl", shown=1, total=2) == "1 van 2"
    assert message("no.such.key", "nl") == "no.such.key"
    assert message("no.such.key", "nl", default="x") == "x"
    assert message("error.too_long", "nl", length=200001, limit=200000).startswith("De tekst is te lang (200.001 tekens")


def test_numbers_are_written_as_each_language_writes_them() -> None:
    assert format_number(4165000000, 0, "en") == "4,165,000,000"
    assert format_number(4165000000, 0, "nl") == "4.165.000.000"
    assert format_number(56.25, 1, "nl") == "56,2" or format_number(56.25, 1, "nl") == "56,3"
    assert format_number(None, 0, "en") == "–"


@pytest.mark.parametrize("path", PAGES)
def test_accept_language_picks_the_language(client: FlaskClient, path: str) -> None:
    dutch = client.get(path, headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5", "Accept": HTML})
    english = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9", "Accept": HTML})
    assert dutch.status_code == english.status_code == 200
    assert (lang_of(dutch), lang_of(english)) == ("nl", "en")
    assert "Bladeren" in dutch.get_data(as_text=True) and "Browse" in english.get_data(as_text=True)
    for response in (dutch, english):
        vary = response.headers["Vary"].lower()
        assert "accept-language" in vary and "cookie" in vary


def test_without_accept_language_the_interface_is_english(client: FlaskClient) -> None:
    assert lang_of(client.get("/")) == "en"


def test_lang_parameter_wins_and_is_remembered(client: FlaskClient) -> None:
    first = client.get("/browse?lang=nl", headers={"Accept-Language": "en"})
    assert lang_of(first) == "nl"
    cookie = first.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=nl;") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    later = client.get("/dashboard", headers={"Accept-Language": "en"})
    assert lang_of(later) == "nl" and "Set-Cookie" not in later.headers
    back = client.get("/dashboard?lang=en")
    assert lang_of(back) == "en" and client.get("/").get_data(as_text=True).count('lang="en"') >= 1


def test_an_unknown_lang_is_ignored(client: FlaskClient) -> None:
    response = client.get("/?lang=xx", headers={"Accept-Language": "nl"})
    assert lang_of(response) == "nl" and "Set-Cookie" not in response.headers


def test_the_switch_links_to_this_page_in_the_other_language(client: FlaskClient) -> None:
    page = client.get("/browse/questions?theme=x&kind=nwa_question", headers={"Accept-Language": "en"})
    switch = page.get_data(as_text=True).split('class="languages"', 1)[1].split("</nav>", 1)[0]
    nl = re.search(r'<a href="([^"]+)" lang="nl" hreflang="nl">Nederlands</a>', switch)
    assert nl and nl.group(1).startswith("/browse/questions?")
    assert "theme=x" in nl.group(1) and "kind=nwa_question" in nl.group(1) and "lang=nl" in nl.group(1)
    assert re.search(r'lang="en" hreflang="en" aria-current="true">English</a>', switch)


def test_rdf_answers_do_not_vary_on_language(client: FlaskClient) -> None:
    response = client.get("/id/theme/gezondheid-zorg", headers={"Accept": "text/turtle"})
    assert "accept-language" not in response.headers.get("Vary", "").lower()


def test_keys_built_in_templates_are_in_the_catalogue() -> None:
    from kg.listing import LISTS
    from web.match_page import SECTIONS
    from web.proposal import KINDS

    keys = {f"kind.{k}" for k in KINDS} | {f"section.{s}" for s in (*SECTIONS, "clusters", "themes", "suggestions")}
    keys |= {f"budget.{b}" for b in ("total", "public", "private", "committed")} | {"language.nl", "language.en"}
    for name, spec in LISTS.items():
        keys |= {f"list.{name}", f"list.{name}.help"} | {f"facet.{f}" for f in (*spec.filters, *spec.shown)}
        keys |= {f"count.{c}" for c in spec.counts}
    assert sorted(keys - set(MESSAGES)) == []
