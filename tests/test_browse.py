"""Browse pages (web/browse.py): a list per kind with facets and counts, CSV downloads, one query per page."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kg.listing import LISTS
from kg.store import Store
from tests.conftest import BASE

CLASSES = {"clusters": "TechnologyCluster", "themes": "Theme", "missions": "Mission", "mmips": "MMIP",
           "questions": "KnowledgeQuestion", "programmes": "Programme", "projects": "Project"}
MK = "https://w3id.org/missiekompas/ontology#"


def public_count(store: Store, where: str) -> int:
    return int(store.view("public").select(f"PREFIX mk: <{MK}> SELECT (COUNT(DISTINCT ?x) AS ?n) {{ {where} }}")[0]["n"])


@pytest.fixture
def client(default_app: Flask) -> FlaskClient:
    return default_app.test_client()


def rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


def test_index_links_every_list_with_its_size(client: FlaskClient) -> None:
    page = client.get("/browse", headers={"Accept-Language": "en"}).get_data(as_text=True)
    for name in LISTS:
        assert f'href="/browse/{name}"' in page
    assert re.search(r'href="/browse/clusters">Technology clusters</a></h2>\s*<p class="big">8</p>', page)


@pytest.mark.parametrize("name", list(LISTS))
def test_every_list_shows_every_entity_of_its_kind(client: FlaskClient, default_store: Store, name: str) -> None:
    response = client.get(f"/browse/{name}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = rows(page)
    assert found, f"{name} is empty"
    if name in CLASSES:
        assert len(found) == public_count(default_store, f"?x a mk:{CLASSES[name]}")
    assert re.search(rf"{len(found)} (of|van) {len(found)}", page)
    assert all('<th scope="row"><a href="/id/' in row for row in found)


def test_counts_per_cluster(client: FlaskClient, default_store: Store) -> None:
    page = client.get("/browse/clusters", headers={"Accept-Language": "en"}).get_data(as_text=True)
    row = next(r for r in rows(page) if "/id/cluster/digital-technologies" in r)
    header = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert [re.sub(r"<[^>]+>", "", h) for h in re.findall(r'<th scope="col"[^>]*>(.*?)</th>', header)] == \
        ["Name", "MJPs", "Programmes", "Projects", "Questions", "Technologies"]
    mjps = public_count(default_store, f"?x a mk:MJP ; mk:cluster <{BASE}cluster/digital-technologies>")
    assert mjps > 0
    assert re.findall(r'<td class="num">(\d+)</td>', row)[0] == str(mjps)  # MJPs in Digital Technologies


def test_a_facet_filters_the_list_and_keeps_its_counts(client: FlaskClient) -> None:
    page = client.get("/browse/programmes?kind=mjp", headers={"Accept-Language": "en"}).get_data(as_text=True)
    shown = rows(page)
    assert shown and all(re.findall(r"<td>(.*?)</td>", row, re.S)[0].strip() == "MJP" for row in shown)
    assert '<input type="checkbox" name="kind" value="mjp" checked>' in page
    # the kind facet counts the other kinds too (disjunctive), so one can widen the choice
    assert re.search(r'value="bgp">\s*broadly supported programme <span class="count">\d+</span>', page)


def test_internal_records_stay_out_of_public_lists(client: FlaskClient) -> None:
    assert "sample-draft-01" not in client.get("/browse/programmes").get_data(as_text=True)


def test_the_sample_facet_shows_only_samples_with_their_mark(client: FlaskClient) -> None:
    page = client.get("/browse/programmes?sample=sample", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    shown = rows(page)
    assert shown and all('<span class="sample"' in row and ">voorbeeld</span>" in row for row in shown)


def test_facets_combine_across_and_within(client: FlaskClient) -> None:
    one = rows(client.get(f"/browse/questions?cluster={BASE}cluster/digital-technologies").get_data(as_text=True))
    two = rows(client.get(f"/browse/questions?cluster={BASE}cluster/digital-technologies"
                          f"&cluster={BASE}cluster/quantum-technologies").get_data(as_text=True))
    both = rows(client.get(f"/browse/questions?cluster={BASE}cluster/digital-technologies"
                           f"&theme={BASE}theme/veiligheid").get_data(as_text=True))
    assert len(two) > len(one) > len(both) > 0


def test_an_unknown_facet_value_shows_nothing_found(client: FlaskClient) -> None:
    page = client.get("/browse/questions?kind=nothing", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Nothing matches these filters." in page


def test_a_list_downloads_as_csv(client: FlaskClient) -> None:
    response = client.get("/browse/programmes?kind=mjp&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="missiekompas-programmes.csv"' in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert table and all(row["kind"] == "mjp" for row in table)
    assert set(table[0]) == {"iri", "label", "is_sample", "kind", "cluster", "theme", "lead", "partner", "question"}


def test_an_unknown_list_is_404(client: FlaskClient) -> None:
    response = client.get("/browse/secrets")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


class CountingStore:
    """The default store, counting the SPARQL queries its views answer."""

    def __init__(self, inner: Store) -> None:
        self.inner, self.queries = inner, 0

    def view(self, audience: str) -> Any:
        outer = self

        class Counted:
            def __getattr__(self, name: str) -> Any:
                return getattr(inner_view, name)

            def select(self, sparql: str) -> list[dict[str, Any]]:
                outer.queries += 1
                return inner_view.select(sparql)

        inner_view = self.inner.view(audience)
        return Counted()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("path", ["/browse", "/browse/questions", "/browse/programmes?kind=mjp&cluster=x"])
def test_a_browse_page_is_one_query(make_app: Callable[..., Flask], default_store: Store, path: str) -> None:
    store = CountingStore(default_store)
    response = make_app(store).test_client().get(path)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert store.queries == 1
