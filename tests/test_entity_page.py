"""Entity pages by kind, on the default data: a programme starts with its contact (lead, partners, website), a
mission says who works on it (or that nobody does yet), an organisation lists its programmes by role, every
reference carries its kind, field names are words in the reader's language, and a dropped MJP's URI answers with
the past edition that held it. Expected values are read from the data files, not from the code."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from kg.schema import ENTITY_TYPES
from kg.store import Store
from tests.conftest import DATA
from tests.support import Watch, watched_page
from web.entity_view import APART, local_name
from web.messages import MESSAGES

HTML = "text/html,application/xhtml+xml"
RAW_NAMES = ("altLabel", "editorialNote", "inScheme", "proxy_knowledge_theme", "research_institute", "seeAlso",
             "topConceptOf", "wasDerivedFrom", "Eigenschappen en verwijzingen", "Properties and links")
MESSAGE_KEY = re.compile(r"\b(?:field|kinds|in|kind|past|entity)\.[A-Za-z_]+\b")


def records(name: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["records"])


def labels(name: str) -> dict[str, dict[str, str]]:
    """id -> label per language ({"": label} for a label without language) of the records in a data file."""
    found = {}
    for record in records(name):
        label = record["label"]
        found[record["id"]] = label if isinstance(label, dict) else {"": label}
    return found


def consortia() -> list[dict[str, Any]]:
    return records("programmes.yaml") + records("projects.yaml")


@pytest.fixture
def client(make_app: Callable[..., Flask], default_store: Store) -> FlaskClient:
    return make_app(default_store, data_dirs=(DATA,)).test_client()


def page(client: FlaskClient, path: str, lang: str) -> str:
    response = client.get(path, headers={"Accept": HTML, "Accept-Language": lang})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def section(body: str, anchor: str) -> str:
    """The section whose heading has id `<anchor>-heading`."""
    parts = body.split(f'id="{anchor}-heading"', 1)
    assert len(parts) == 2, f"no section {anchor!r}"
    return parts[1].split("</section>", 1)[0]


def visible(body: str) -> str:
    """The text a reader sees in the page's main part: no tags, attributes or scripts."""
    main = body.split("<main", 1)[1].split("</main>", 1)[0] if "<main" in body else body
    return html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)))


def in_language(names: dict[str, str], lang: str) -> str:
    return names.get(lang) or names.get("") or names["nl"]


# --- programmes and projects: contact first ------------------------------------------------------

def a_real_consortium() -> tuple[str, dict[str, Any]]:
    """(kind, record) of the first real programme, else project, with a lead, partners and missions."""
    return next((kind, r) for kind, name in (("programme", "programmes.yaml"), ("project", "projects.yaml"))
                for r in records(name) if not r.get("sample") and r.get("lead") and r.get("partners") and r.get("missions"))


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_a_programme_page_shows_its_contact_before_its_missions(client: FlaskClient, lang: str) -> None:
    kind, programme = a_real_consortium()
    body = page(client, f"/id/{kind}/{programme['id']}", lang)
    assert body.index('id="contact-heading"') < body.index('id="missions-heading"') < body.index('id="sources-heading"')
    contact = section(body, "contact")
    lead_label = {"nl": "Penvoerder", "en": "Lead"}[lang]
    lead = contact.split(f"<dt>{lead_label}", 1)[1].split("</dd>", 1)[0]
    assert f'href="/id/organisation/{programme["lead"]}"' in lead
    partners = contact.split("<dt>Partners", 1)[1].split("</dd>", 1)[0]
    for partner in programme["partners"]:
        assert f'href="/id/organisation/{partner}"' in partners
    missions = section(body, "missions")
    for mission in programme["missions"]:
        assert f'href="/id/mission/{mission}"' in missions


@pytest.mark.parametrize(("lang", "said"), [("nl", "penvoerder onbekend"), ("en", "lead unknown")])
def test_a_programme_without_a_known_lead_says_so(client: FlaskClient, lang: str, said: str) -> None:
    programme = next(r for r in records("programmes.yaml") if not r.get("lead") and not r.get("sample"))
    contact = section(page(client, f"/id/programme/{programme['id']}", lang), "contact")
    assert said in visible(contact)


def test_a_project_says_how_it_is_funded_in_words(client: FlaskClient) -> None:
    project = next(r for r in records("projects.yaml") if r.get("instrument") == "ngf")
    contact = visible(section(page(client, f"/id/project/{project['id']}", "nl"), "contact"))
    assert "Nationaal Groeifonds" in contact and "ngf" not in contact.split()


# --- missions and MMIPs: who works on it ------------------------------------------------------------

def addressed(field: str) -> set[str]:
    return {target for record in consortia() for target in record.get(field) or ()}


@pytest.mark.parametrize(("lang", "said"), [("nl", "Nog geen programma werkt aan deze missie."),
                                            ("en", "No programme addresses this mission yet.")])
def test_a_mission_without_programmes_says_so(client: FlaskClient, lang: str, said: str) -> None:
    mission = next(r["id"] for r in records("missions.yaml") if r["id"] not in addressed("missions"))
    answer = section(page(client, f"/id/mission/{mission}", lang), "addressed-by")
    assert said in visible(answer)
    assert 'href="/id/programme/' not in answer and 'href="/id/project/' not in answer


def test_a_mission_lists_the_programmes_and_projects_that_address_it(client: FlaskClient) -> None:
    mission = next(r["id"] for r in records("missions.yaml") if r["id"] in addressed("missions"))
    answer = section(page(client, f"/id/mission/{mission}", "en"), "addressed-by")
    for kind, name in (("programme", "programmes.yaml"), ("project", "projects.yaml")):
        for record in records(name):
            if mission in (record.get("missions") or ()):
                assert f'href="/id/{kind}/{record["id"]}"' in answer
    assert "No programme addresses this mission yet." not in visible(answer)


@pytest.mark.parametrize(("lang", "said"), [("nl", "Nog geen programma werkt aan dit MMIP."),
                                            ("en", "No programme addresses this MMIP yet.")])
def test_an_mmip_without_programmes_says_so(client: FlaskClient, lang: str, said: str) -> None:
    mmip = next(r["id"] for r in records("mmips.yaml") if r["id"] not in addressed("mmips"))
    assert said in visible(section(page(client, f"/id/mmip/{mmip}", lang), "addressed-by"))


# --- organisations: programmes by role ---------------------------------------------------------------

def test_an_organisation_page_groups_its_programmes_by_role(client: FlaskClient) -> None:
    def leads(record: dict[str, Any], org: str) -> bool:
        return record.get("lead") == org

    def partners(record: dict[str, Any], org: str) -> bool:
        return org in (record.get("partners") or ())

    org = next(o["id"] for o in records("organisations.yaml")
               if any(leads(r, o["id"]) for r in consortia()) and any(partners(r, o["id"]) for r in consortia()))
    roles = section(page(client, f"/id/organisation/{org}", "nl"), "roles")
    led = roles.split("<h3>Penvoerder van</h3>", 1)[1].split("</ul>", 1)[0]
    partnered = roles.split("<h3>Partner in</h3>", 1)[1].split("</ul>", 1)[0]
    for kind, name in (("programme", "programmes.yaml"), ("project", "projects.yaml")):
        for record in records(name):
            link = f'href="/id/{kind}/{record["id"]}"'
            assert (link in led) == leads(record, org), f"{record['id']} under lead"
            assert (link in partnered) == partners(record, org), f"{record['id']} under partner"
    assert '<span class="kind">programma</span>' in led + partnered


def test_an_organisation_page_keeps_its_co_operation_network(client: FlaskClient) -> None:
    org = next(r["lead"] for r in records("programmes.yaml") if r.get("lead") and r.get("partners"))
    assert 'id="network-heading"' in page(client, f"/id/organisation/{org}", "en")


# --- references: a kind on every one -------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["nl", "en"])
def test_incoming_references_are_grouped_by_kind_each_with_its_badge(client: FlaskClient, lang: str) -> None:
    cluster = next(iter(labels("clusters.yaml")))
    referred = section(page(client, f"/id/cluster/{cluster}", lang), "referred")
    headings = re.findall(r"<h3>([^<]+)</h3>", referred)
    expected = {"nl": ("Programma&#39;s", "Kennisvragen"), "en": ("Programmes", "Knowledge questions")}[lang]
    assert set(expected) <= set(headings) and len(headings) == len(set(headings))
    items = re.findall(r"<li>.*?</li>", referred)
    assert items and all('<span class="kind">' in item for item in items)


def test_every_outgoing_reference_carries_its_kind(client: FlaskClient) -> None:
    kind, programme = a_real_consortium()
    body = page(client, f"/id/{kind}/{programme['id']}", "en")
    main = body.split("<main", 1)[1].split('id="similar-heading"', 1)[0]
    for item in re.findall(r'<li><a href="/id/[^"]+">.*?</li>', main):
        assert '<span class="kind">' in item, item


# --- words, not the data model ------------------------------------------------------------------------

PAGES = ["/id/programme/photondelta", "/id/question/q-lwv-a1", "/id/organisation/tno", "/id/cluster/nanotechnologies",
         "/id/theme/gezondheid-zorg", "/id/agenda/kia-st-2020-2023", "/id/mmip/ke-mmip-1", "/id/technology/nts-photonics",
         "/id/source/kia-st-2020-2023", "/id/trl/trl-7"]


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_no_raw_property_names_or_codes_are_shown(client: FlaskClient, lang: str) -> None:
    for path in [*PAGES, f"/id/project/{records('projects.yaml')[0]['id']}",
                 f"/id/mission/{records('missions.yaml')[0]['id']}"]:
        text = visible(page(client, path, lang))
        for raw in RAW_NAMES:
            assert raw not in text, f"{raw!r} shown on {path} ({lang})"
        assert not MESSAGE_KEY.search(text), f"a message key shown on {path} ({lang}): {MESSAGE_KEY.search(text)}"


def test_codes_are_words_in_both_languages(client: FlaskClient) -> None:
    assert "kennisthema uit een andere agenda" in visible(page(client, "/id/question/q-lwv-a1", "nl"))
    assert "knowledge theme from another agenda" in visible(page(client, "/id/question/q-lwv-a1", "en"))
    institute = next(o["id"] for o in records("organisations.yaml") if o.get("kind") == "research_institute")
    assert "onderzoeksinstituut" in visible(page(client, f"/id/organisation/{institute}", "nl"))
    assert "research institute" in visible(page(client, f"/id/organisation/{institute}", "en"))


def test_an_editors_note_says_field_names_in_words(client: FlaskClient) -> None:
    project = next(r for r in records("projects.yaml") if "part_of" in (r.get("notes") or ""))
    body = page(client, f"/id/project/{project['id']}", "nl")
    notes = body.split('<details class="notes">', 1)[1].split("</details>", 1)[0]
    assert "part_of" not in notes and "“part of”" in html.unescape(notes)
    assert '<p lang="en">' in notes  # the editors write their notes in English


def test_every_field_of_the_schema_has_a_name_in_both_languages() -> None:
    for entity_type in ENTITY_TYPES:
        for field in entity_type.fields:
            for sub in field.sub_fields or (field,):
                if sub.predicate is None or str(sub.predicate) in APART:
                    continue
                names = MESSAGES.get(f"field.{local_name(str(sub.predicate))}")
                assert names and names["nl"] and names["en"], f"{entity_type.name}.{sub.name} has no name"


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_names_are_in_the_readers_language(client: FlaskClient, lang: str) -> None:
    programme = next(r for r in records("programmes.yaml") if r["id"] == "photondelta")
    body = page(client, "/id/programme/photondelta", lang)
    clusters = labels("clusters.yaml")
    for cluster in programme["clusters"]:
        assert f'href="/id/cluster/{cluster}">{html.escape(in_language(clusters[cluster], lang), quote=True)}</a>' in body
    also = {"nl": "Ook bekend als", "en": "Also known as"}[lang]
    shown = body.split(f'<p class="also-known">{also}: ', 1)[1].split("</p>", 1)[0]
    assert html.escape(programme["alt_labels"][lang][0], quote=True) in shown


def test_the_rdf_is_behind_the_data_links_not_the_body(client: FlaskClient) -> None:
    body = page(client, "/id/programme/photondelta", "nl")
    formats = body.split('<p class="formats">', 1)[1].split("</p>", 1)[0]
    assert "Gegevens (RDF):" in formats
    assert all(f'href="?format={fmt}"' in formats for fmt in ("ttl", "jsonld", "nt", "rdfxml"))
    assert '<table class="links">' not in body


# --- a dropped MJP: its past edition answers ------------------------------------------------------------

def dropped_mjp() -> tuple[str, str, dict[str, Any]]:
    """An MJP only a past edition holds: (edition, id, its record there)."""
    current = {r["id"] for r in records("programmes.yaml")}
    for folder in sorted((DATA / "editions").iterdir()):
        for record in yaml.safe_load((folder / "programmes.yaml").read_text(encoding="utf-8"))["records"]:
            if record["id"] not in current:
                return folder.name, record["id"], record
    raise AssertionError("no dropped MJP in data/editions")


@pytest.mark.parametrize(("lang", "said"), [("nl", "komt uit editie {edition} en staat niet meer in de huidige"),
                                            ("en", "is from edition {edition} and is no longer in the current")])
def test_a_dropped_mjp_page_names_its_edition(client: FlaskClient, lang: str, said: str) -> None:
    edition, mjp, record = dropped_mjp()
    body = page(client, f"/id/programme/{mjp}", lang)
    text = visible(body)
    assert said.format(edition=edition) in text
    assert in_language(record["label"], lang) in text
    held = section(body, "held")
    for org in filter(None, [record.get("lead"), *(record.get("partners") or ())]):
        assert f'href="/id/organisation/{org}"' in held
    for mission in record.get("missions") or ():
        assert f'href="/id/mission/{mission}"' in held


def test_a_dropped_mjp_asked_as_rdf_is_gone_naming_its_edition(client: FlaskClient) -> None:
    edition, mjp, _ = dropped_mjp()
    response = client.get(f"/id/programme/{mjp}", headers={"Accept": "text/turtle"})
    assert response.status_code == 410
    assert response.mimetype == "application/problem+json"
    assert f"edition {edition}" in response.get_json(force=True)["detail"]
    assert client.get("/id/programme/never-was-one", headers={"Accept": "text/turtle"}).status_code == 404


# --- a phone: no page wider than its screen --------------------------------------------------------------

@pytest.fixture
def phone(browser: Any, server: str) -> Iterator[tuple[Any, Watch]]:
    """A 390 px wide page in chromium on the real server (the default data)."""
    watch = yield from watched_page(browser, server, viewport={"width": 390, "height": 844}, locale="nl-NL")
    assert watch.console_errors == [], f"console errors: {watch.console_errors}"


@pytest.mark.slow
def test_entity_pages_fit_a_390_pixel_screen(phone: tuple[Any, Watch], server: str) -> None:
    tab, _ = phone
    kind, consortium = a_real_consortium()
    paths = [*PAGES, f"/id/{kind}/{consortium['id']}", f"/id/programme/{dropped_mjp()[1]}",
             f"/id/project/{records('projects.yaml')[0]['id']}"]
    for path in paths:
        response = tab.goto(f"{server}{path}", wait_until="load")
        assert response is not None and response.status == 200, path
        width = tab.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width} px wide on a 390 px screen"
