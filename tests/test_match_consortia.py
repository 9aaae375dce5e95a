"""The researcher's match draws on real consortia: projects sit in the consortia section next to programmes,
with their lead, partners and funding, and sample records can be left out of everything (search, the
`python -m search match` CLI, /api/match, the match page).

The data is tests/fixtures/tiny with tests/fixtures/consortia on top (a real project and a sample programme
on green hydrogen); expectations are read from those files, never written out here."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from config import Settings
from kg.access import INTERNAL, PUBLIC
from kg.build import build
from kg.store import MemoryStore, Store
from search.match import Filters, Matcher
from search.result import Hit, MatchResult
from tests.conftest import BASE, FIXTURES, TINY, index_over, matcher_over
from web.app import create_app

CONSORTIA = FIXTURES / "consortia"
PROPOSAL = ("We want to build a hydrogen valley in the harbour with port companies, grid operators and universities: "
            "green hydrogen from large electrolysers, stored in salt caverns and carried to industry by safe pipelines.")


def records(name: str) -> list[dict]:
    return yaml.safe_load((CONSORTIA / f"{name}.yaml").read_text(encoding="utf-8"))["records"]


PROJECT = next(r for r in records("projects") if not r.get("sample"))
SAMPLE_PROGRAMME = next(r for r in records("programmes") if r.get("sample"))


def iri(path: str, record: dict) -> str:
    return f"{BASE}{path}/{record['id']}"


def all_hits(result: MatchResult) -> list[Hit]:
    return [*result.questions, *result.programmes, *result.missions, *result.kem_categories]


@pytest.fixture(scope="module")
def data_settings(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(store="memory", data_dirs=(TINY, CONSORTIA), model=str(model_path),
                    index_path=tmp_path_factory.mktemp("consortia-index") / "index")


@pytest.fixture(scope="module")
def data_store(data_settings: Settings) -> Store:
    built = MemoryStore()
    build(data_settings.data_dirs, data_settings.base_uri, built)
    return built


@pytest.fixture(scope="module")
def data_matcher(data_settings: Settings, data_store: Store) -> Matcher:
    return matcher_over(data_settings, data_store)


@pytest.fixture(scope="module")
def app(data_settings: Settings, data_store: Store, data_matcher: Matcher) -> Flask:
    return create_app(data_settings, store=data_store,
                      matchers={INTERNAL: data_matcher, PUBLIC: matcher_over(data_settings, data_store, audience=PUBLIC)})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# --- search ---------------------------------------------------------------------------------------

def test_a_project_is_a_consortium_hit_with_its_lead_partners_and_funding(data_matcher: Matcher) -> None:
    result = data_matcher.match(PROPOSAL, top=10)
    hit = next(h for h in result.programmes if h.iri == iri("project", PROJECT))
    assert hit.kind == "project" and not hit.is_sample
    assert [m.iri for m in hit.members if m.role == "lead"] == [f"{BASE}organisation/{PROJECT['lead']}"]
    assert {m.iri for m in hit.members if m.role == "partner"} == {f"{BASE}organisation/{p}" for p in PROJECT["partners"]}
    assert hit.funding is not None
    assert (hit.funding.instrument, hit.funding.call, hit.funding.year) == (PROJECT["instrument"], PROJECT["call"],
                                                                            PROJECT["year"])
    assert {f"{BASE}cluster/{c}" for c in PROJECT["clusters"]} <= set(hit.clusters)
    assert hit.explanation.passage is None and hit.explanation.dense_rank is not None  # the proposal is one passage
    programmes = [h for h in result.programmes if h.kind == "programme"]
    assert programmes and all(h.funding is None for h in programmes), "programmes and projects share the section"


def test_every_member_is_named_once_per_role(data_matcher: Matcher) -> None:
    for hit in data_matcher.match(PROPOSAL, top=10).programmes:
        pairs = [(m.iri, m.role) for m in hit.members]
        assert len(pairs) == len(set(pairs)), hit.iri
        assert [m.role for m in hit.members] == sorted((m.role for m in hit.members), key=lambda r: r != "lead")


def test_the_project_kind_filter_keeps_only_projects(data_matcher: Matcher) -> None:
    result = data_matcher.match(PROPOSAL, top=10, filters=Filters(kinds=("project",)))
    assert result.programmes and {h.kind for h in result.programmes} == {"project"}
    assert not (result.questions or result.missions or result.kem_categories)


def test_leaving_out_samples_removes_them_from_every_section_member_list_and_explanation(data_matcher: Matcher) -> None:
    shown = data_matcher.match(PROPOSAL, top=10)
    sample = iri("programme", SAMPLE_PROGRAMME)
    assert sample in {h.iri for h in shown.programmes}, "the sample programme is a hit when samples are shown"
    assert sample in {c.iri for c in shown.concepts}, "the proposal names the sample programme"
    assert shown.samples == "include" and shown.has_samples and shown.to_dict()["samples_note"]

    left_out = data_matcher.match(PROPOSAL, top=10, filters=Filters(include_samples=False))
    hits = all_hits(left_out)
    assert hits and not any(h.is_sample for h in hits)
    assert not any(m.is_sample for h in hits for m in h.members)
    assert sample not in {c.iri for c in left_out.concepts}
    assert not any(c.iri == sample for h in hits for c in h.explanation.shared_concepts)
    assert left_out.samples == "exclude" and not left_out.has_samples and left_out.to_dict()["samples_note"] is None
    real = {h.iri for h in shown.programmes if not h.is_sample}
    assert real <= {h.iri for h in left_out.programmes}, "the real consortia stay"


def test_a_real_consortium_keeps_only_its_real_members_without_samples(data_matcher: Matcher) -> None:
    shown = data_matcher.match(PROPOSAL, top=10)
    mixed = [h for h in shown.programmes if not h.is_sample and any(m.is_sample for m in h.members)]
    assert iri("project", PROJECT) in {h.iri for h in mixed}, "the fixture project has a sample partner"
    left_out = {h.iri: h for h in data_matcher.match(PROPOSAL, top=10, filters=Filters(include_samples=False)).programmes}
    for hit in mixed:
        assert [m for m in hit.members if not m.is_sample] == list(left_out[hit.iri].members)


def test_adding_projects_or_changing_a_sample_mark_rebuilds_the_index(data_settings: Settings, data_store: Store,
                                                                      tmp_path: Path) -> None:
    folder = replace(data_settings, index_path=tmp_path / "index")
    without = MemoryStore()
    build((TINY,), BASE, without)
    index_over(folder, without)
    index, _, _, rebuilt = index_over(folder, data_store)
    assert rebuilt and iri("project", PROJECT) in index.entities
    assert index_over(folder, data_store)[3] is False, "an unchanged graph reuses the index"

    data = tmp_path / "consortia"
    data.mkdir()
    for path in CONSORTIA.glob("*.yaml"):
        (data / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    text = (data / "programmes.yaml").read_text(encoding="utf-8")
    assert text.count("    sample: true\n") == 1
    (data / "programmes.yaml").write_text(text.replace("    sample: true\n", "    sample: false\n"), encoding="utf-8")
    turned = MemoryStore()
    build((TINY, data), BASE, turned)
    index, _, _, rebuilt = index_over(folder, turned)
    assert rebuilt, "the same texts with another sample mark make a new index"
    assert not index.entities[iri("programme", SAMPLE_PROGRAMME)].is_sample


# --- the API and the match page --------------------------------------------------------------------

def test_api_match_leaves_out_samples_when_asked(client: FlaskClient) -> None:
    shown = client.post("/api/match", json={"text": PROPOSAL, "top": 10}).get_json()
    assert shown["samples"] == "include"
    assert any(h["is_sample"] for h in shown["programmes"])
    project = next(h for h in shown["programmes"] if h["iri"] == iri("project", PROJECT))
    assert project["kind"] == "project" and project["funding"]["instrument"] == PROJECT["instrument"]
    assert {m["role"] for m in project["members"]} == {"lead", "partner"}

    for response in (client.post("/api/match", json={"text": PROPOSAL, "top": 10, "samples": "exclude"}),
                     client.post("/api/match", data={"text": PROPOSAL, "top": "10", "samples": "exclude"})):
        assert response.status_code == 200
        left_out = response.get_json()
        assert left_out["samples"] == "exclude" and left_out["samples_note"] is None
        sections = ("questions", "programmes", "missions", "kem_categories")
        assert not any(h["is_sample"] or any(m["is_sample"] for m in h["members"])
                       for s in sections for h in left_out[s])
        assert iri("project", PROJECT) in {h["iri"] for h in left_out["programmes"]}


def test_api_search_takes_samples_too_and_refuses_a_bad_value(client: FlaskClient) -> None:
    hits = client.get("/api/search", query_string={"q": PROPOSAL, "top": 20, "samples": "exclude"}).get_json()["hits"]
    assert hits and not any(h["is_sample"] for h in hits)
    bad = client.post("/api/match", json={"text": PROPOSAL, "samples": "hide"})
    assert bad.status_code == 400 and "samples" in bad.get_json()["detail"]


def test_the_openapi_document_describes_the_samples_field(client: FlaskClient) -> None:
    document = client.get("/api/openapi.json").get_json()
    assert "samples" in document["components"]["schemas"]["MatchBody"]["properties"]
    assert "exclude" in document["paths"]["/api/match"]["post"]["description"]


def _checkbox(page: str) -> str:
    found = re.search(r'<input type="checkbox" id="samples"[^>]*>', page)
    assert found, "the form has the samples checkbox"
    return found.group(0)


def test_the_match_form_offers_leaving_out_samples_unticked(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    box = _checkbox(page)
    assert 'name="samples"' in box and 'value="exclude"' in box and "checked" not in box
    assert "Voorbeelden weglaten" in page
    assert "Leave out samples" in client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_the_match_page_sends_and_keeps_the_samples_choice(client: FlaskClient) -> None:
    shown = client.post("/match", data={"text": PROPOSAL, "top": "10"}).get_data(as_text=True)
    assert f'href="/id/programme/{SAMPLE_PROGRAMME["id"]}"' in shown and 'class="sample"' in shown
    assert "checked" not in _checkbox(shown)

    left_out = client.post("/match", data={"text": PROPOSAL, "top": "10", "samples": "exclude"}).get_data(as_text=True)
    assert f'/id/programme/{SAMPLE_PROGRAMME["id"]}"' not in left_out
    assert 'class="sample"' not in left_out
    assert "checked" in _checkbox(left_out)
    assert '<input type="hidden" name="samples" value="exclude">' in left_out, "the downloads keep the choice"
    assert f'href="/id/project/{PROJECT["id"]}"' in left_out
    assert 'class="funding"' in left_out and PROJECT["call"] in left_out


# --- the CLI -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def search_cli(data_settings: Settings, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a runner
    folder = tmp_path_factory.mktemp("consortia-cli")
    env = {**os.environ, "MK_STORE_PATH": str(folder / "store"), "MK_MODEL": data_settings.model,
           "MK_INDEX_PATH": str(folder / "index"), "MK_DATA_DIRS": os.pathsep.join(map(str, data_settings.data_dirs))}
    subprocess.run([sys.executable, "-m", "kg", "build", "--quiet"], env=env, check=True, capture_output=True)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "search", "match", "--text", PROPOSAL, "--top", "10", *args],
                              capture_output=True, text=True, env=env, timeout=300)

    return run


def test_cli_no_samples_leaves_them_out(search_cli) -> None:  # noqa: ANN001
    shown, left_out = search_cli("--json"), search_cli("--json", "--no-samples")
    assert shown.returncode == 0 and left_out.returncode == 0, shown.stderr + left_out.stderr
    before, after = json.loads(shown.stdout), json.loads(left_out.stdout)
    sample = iri("programme", SAMPLE_PROGRAMME)
    assert sample in {h["iri"] for h in before["programmes"]}
    assert sample not in {h["iri"] for h in after["programmes"]}
    assert not any(h["is_sample"] for s in ("questions", "programmes", "missions", "kem_categories") for h in after[s])
    assert after["samples"] == "exclude" and before["samples"] == "include"
    assert iri("project", PROJECT) in {h["iri"] for h in after["programmes"]}


def test_cli_text_names_the_project_consortium(search_cli) -> None:  # noqa: ANN001
    text = search_cli("--no-samples")
    assert text.returncode == 0, text.stderr
    assert "[sample]" not in text.stdout and "left out" in text.stdout
    block = re.split(r"\n  \d+\. |\n\n", text.stdout.split(PROJECT["label"], 1)[1], maxsplit=1)[0]
    assert "lead: " in block and PROJECT["call"] in block and str(PROJECT["year"]) in block
