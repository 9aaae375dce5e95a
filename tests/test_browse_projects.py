"""Projects in browsing: their own list (kg/listing.py, web/browse.py), counted next to programmes in the
other lists, on organisation pages and in the memberships query; a readable project page. The tiny
fixture holds one project, grid-battery (tests/fixtures/tiny/projects.yaml)."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from kg.listing import Item, list_entities, list_sizes
from kg.queries import named_query
from kg.store import Store
from tests.conftest import BASE
from web.messages import MESSAGES

PROJECT = BASE + "project/grid-battery"
LEAD = BASE + "organisation/real-institute"
PARTNER = BASE + "organisation/sample-firm"
MISSION = BASE + "mission/clean-power"
# the values the shapes allow (ontology/shapes.ttl), each with an nl and an en label on the browse pages
ORGANISATION_KINDS = ("university", "university_of_applied_sciences", "umc", "research_institute", "company",
                      "government", "region", "funder", "tki", "rom", "eu", "foundation", "network", "other")
INSTRUMENTS = ("mooi", "kic", "ngf", "perspectief", "tki", "other")


def page_of(client: FlaskClient, path: str, lang: str = "en") -> str:
    response = client.get(path, headers={"Accept": "text/html", "Accept-Language": lang})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def item(store: Store, name: str, iri: str) -> Item:
    return next(i for i in list_entities(store, name).items if i.iri == iri)


# --- the list of projects -------------------------------------------------------------------------

def test_the_project_list_has_instrument_lead_missions_and_partners(tiny_store: Store) -> None:
    listing = list_entities(tiny_store, "projects")
    assert [i.iri for i in listing.items] == [PROJECT]
    project = listing.items[0]
    assert project.label("en") == "Grid battery project" and not project.is_sample
    assert [r.value for r in project.values["instrument"]] == ["mooi"]
    assert [r.value for r in project.values["lead"]] == [LEAD]
    assert project.values["lead"][0].label("en") == "Real Institute"
    assert [r.value for r in project.values["mission"]] == [MISSION]
    assert [r.value for r in project.values["cluster"]] == [BASE + "cluster/alpha-tech"]
    assert project.counts == {"partner": 1}
    assert [f.name for f in listing.facets] == ["instrument", "sample", "cluster", "theme", "mission"]
    assert list_sizes(tiny_store)["projects"] == (1, 0)


def test_the_project_list_page_shows_the_project_with_its_lead(client: FlaskClient) -> None:
    page = page_of(client, "/browse/projects")
    found = rows(page)
    assert len(found) == 1 and '<a href="/id/project/grid-battery">Grid battery project</a>' in found[0]
    assert 'href="/id/organisation/real-institute">Real Institute</a>' in found[0]
    assert "<td>MOOI</td>" in found[0]
    header = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert [re.sub(r"<[^>]+>", "", h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', header)] == \
        ["Name", "Instrument", "Technology cluster", "Theme", "Mission", "Lead", "Partners"]


def test_the_project_list_filters_by_instrument(client: FlaskClient) -> None:
    mooi = page_of(client, "/browse/projects?instrument=mooi")
    assert len(rows(mooi)) == 1 and '<input type="checkbox" name="instrument" value="mooi" checked>' in mooi
    assert re.search(r'value="mooi" checked>\s*MOOI <span class="count">1</span>', mooi)
    kic = page_of(client, "/browse/projects?instrument=kic")
    assert "Nothing matches these filters." in kic and "1 of 1" not in kic and "0 of 1" in kic


def test_the_project_list_downloads_as_csv(client: FlaskClient) -> None:
    response = client.get("/browse/projects?format=csv", headers={"Accept-Language": "en"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, first = response.get_data(as_text=True).splitlines()[:2]
    assert header == "iri,label,is_sample,instrument,cluster,theme,mission,lead,partner"
    assert first.startswith(f"{PROJECT},Grid battery project,False,mooi,")  # the value itself, for machines
    assert first.endswith(",Real Institute,1")


def test_the_browse_index_offers_the_projects(client: FlaskClient) -> None:
    page = page_of(client, "/browse", "nl")
    assert re.search(r'href="/browse/projects">Projecten</a></h2>\s*<p class="big">1</p>', page)


# --- projects counted in the other lists ------------------------------------------------------------

def test_a_mission_counts_the_projects_contributing_to_it(tiny_store: Store, client: FlaskClient) -> None:
    mission = item(tiny_store, "missions", MISSION)
    assert mission.counts["project"] == 1 and mission.counts["programme"] == 0  # storage-mjp only through an MMIP
    assert item(tiny_store, "missions", BASE + "mission/healthy-years").counts["project"] == 0
    page = page_of(client, "/browse/missions")
    header = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert ">Programmes</a></th>" in header and ">Projects</a></th>" in header  # each heading sorts its column
    row = next(r for r in rows(page) if "/id/mission/clean-power" in r)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["0", "1", "1", "0"]  # programmes, projects, MMIPs, questions


def test_clusters_and_organisations_count_projects_next_to_programmes(tiny_store: Store) -> None:
    alpha = item(tiny_store, "clusters", BASE + "cluster/alpha-tech")
    assert alpha.counts["programme"] == 2 and alpha.counts["project"] == 1
    assert item(tiny_store, "clusters", BASE + "cluster/beta-tech").counts["project"] == 0
    assert item(tiny_store, "themes", BASE + "theme/energy").counts["project"] == 0
    assert item(tiny_store, "mmips", BASE + "mmip/offshore-wind").counts == {"programme": 1, "project": 0}
    lead = item(tiny_store, "organisations", LEAD)
    assert lead.counts == {"lead": 2, "partner": 0, "funder": 0}  # storage-mjp and grid-battery
    assert item(tiny_store, "organisations", PARTNER).counts["partner"] == 2  # sample-sensing and grid-battery


def test_memberships_name_the_kind_of_consortium(tiny_store: Store) -> None:
    found = {(str(r["organisation"]), str(r["programme"])): (str(r["role"]), str(r["kind"]))
             for r in tiny_store.select(named_query("programmes_of_organisation"))}
    assert found[(LEAD, PROJECT)] == ("lead", "project")
    assert found[(PARTNER, PROJECT)] == ("partner", "project")
    assert found[(LEAD, BASE + "programme/storage-mjp")] == ("lead", "mjp")


def test_the_organisation_kinds_and_instruments_have_labels_in_both_languages() -> None:
    keys = [f"value.kind.{k}" for k in ORGANISATION_KINDS] + [f"value.instrument.{i}" for i in INSTRUMENTS]
    keys += ["list.projects", "list.projects.help", "facet.instrument", "count.project", "count.funder"]
    assert [k for k in keys if set(MESSAGES.get(k, {})) != {"nl", "en"}] == []


def test_the_organisation_facet_shows_kinds_by_their_labels(client: FlaskClient) -> None:
    nl = page_of(client, "/browse/organisations", "nl")
    assert re.search(r'value="research_institute">\s*onderzoeksinstituut <span class="count">1</span>', nl)
    header = nl.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert ">Penvoerder van programma&#39;s en projecten</a></th>" in header
    assert ">Partner in programma&#39;s en projecten</a></th>" in header and ">Financier van projecten</a></th>" in header


# --- pages ----------------------------------------------------------------------------------------

def test_the_organisation_page_lists_the_project_it_leads(client: FlaskClient) -> None:
    page = page_of(client, "/id/organisation/real-institute")
    lead = page.split("<h3>Lead of</h3>", 1)[1].split("</ul>", 1)[0]
    assert '<a href="/id/project/grid-battery">Grid battery project</a> <span class="kind">project</span>' in lead
    assert '<a href="/id/programme/storage-mjp">' in lead


def test_the_project_page_reads_well(client: FlaskClient) -> None:
    page = page_of(client, "/id/project/grid-battery")
    assert re.search(r"<h1>Grid battery project\s", page)
    contact = page.split('id="contact-heading"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<dt>Lead</dt>\s*<dd><ul class="refs"><li><a href="/id/organisation/real-institute">Real Institute</a>',
                     contact)
    assert 'href="/id/organisation/sample-firm"' in contact.split("<dt>Partners</dt>", 1)[1]
    assert "Instrument: MOOI" in contact  # the code in words
    # the per-link confidence goes with the mission link, not on a row of its own
    missions = page.split('id="missions-heading"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<h3>Missions <span class="confidence">\(confidence: [^)]+\)</span></h3>'
                     r'\s*<ul class="refs"><li><a href="/id/mission/clean-power">', missions)
    assert "confidence: missions" not in page and ">is sample<" not in page
    details = page.split('id="details-heading"', 1)[1].split("</section>", 1)[0]
    assert re.search(r'<h3>Part of</h3>\s*<ul class="refs"><li><a href="/id/programme/storage-mjp">', details)
    assert "http://www.w3.org/ns/org#OrganizationalCollaboration</a>" not in page  # a type without label: its name
