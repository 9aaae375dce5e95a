"""Partner suggestions (search.partners) on tests/fixtures/partners layered on tests/fixtures/tiny: known answers
read from the fixture's files; the organisation names (search.organisation_names) without a model; and the
offshore-wind example on the default data."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from config import Settings
from kg.access import INTERNAL
from kg.build import build
from kg.cooperation import cooperation_network, load_roles
from kg.store import MemoryStore, Store
from search.organisation_names import OrganisationNames, UnknownOrganisation, normalise_name
from search.partners import PartnerFinder, PartnersResult
from search.service import open_partner_finder
from tests.conftest import BASE, FIXTURES, TINY, matcher_over

PARTNERS = FIXTURES / "partners"
TEXT = ("Quiet installation of steel monopile foundations for offshore wind turbines at sea with less underwater "
        "noise, and their protection against corrosion so that they last longer.")
HAVE = ("tu zeestad", "HARBOUR builders")  # a short name in lower case, a label in other capitals


def records(name: str) -> dict[str, dict]:
    return {r["id"]: r for r in yaml.safe_load((PARTNERS / f"{name}.yaml").read_text(encoding="utf-8"))["records"]}


PROJECTS, ORGANISATIONS = records("projects"), records("organisations")


def org(id_: str) -> str:
    return f"{BASE}organisation/{id_}"


def leader_of(project: str) -> str:
    return org(PROJECTS[project]["lead"])


@pytest.fixture(scope="module")
def store() -> Store:
    built = MemoryStore()
    build((TINY, PARTNERS), BASE, built)
    return built


@pytest.fixture(scope="module")
def finder(model_path, store: Store, tmp_path_factory: pytest.TempPathFactory) -> PartnerFinder:  # noqa: ANN001
    settings = Settings(store="memory", model=str(model_path), index_path=tmp_path_factory.mktemp("partners") / "index")
    return open_partner_finder(store, matcher_over(settings, store), base=BASE, audience=INTERNAL)


@pytest.fixture(scope="module")
def answer(finder: PartnerFinder) -> PartnersResult:
    return finder.suggest(TEXT, HAVE, top=20)


def test_an_organisation_covering_the_missing_cluster_ranks_above_one_repeating_the_consortiums(answer) -> None:  # noqa: ANN001
    ranked = [s.iri for s in answer.suggestions]
    covers, repeats = leader_of("foundation-coatings"), leader_of("quiet-piling")
    assert PROJECTS["foundation-coatings"]["description"] == PROJECTS["quiet-piling"]["description"]
    assert ranked.index(covers) < ranked.index(repeats)
    by_iri = {s.iri: s for s in answer.suggestions}
    assert [r.iri for r in by_iri[covers].adds_clusters] == [f"{BASE}cluster/{c}" for c in
                                                             PROJECTS["foundation-coatings"]["clusters"]]
    assert by_iri[repeats].adds_clusters == ()
    assert by_iri[covers].fit == by_iri[repeats].fit, "the same text fits the same: the bonus decides"


def test_without_a_consortium_nothing_is_complemented(finder: PartnerFinder) -> None:
    alone = finder.suggest(TEXT, top=20)
    assert alone.consortium.members == () and all(s.bonus == 0 for s in alone.suggestions)
    assert [s.score for s in alone.suggestions] == [s.fit for s in alone.suggestions]


def test_members_are_never_suggested_and_are_named_in_the_answer(answer) -> None:  # noqa: ANN001
    members = {org(PROJECTS["monopile-design"]["lead"]), org("harbour-builders")}
    assert {m.iri for m in answer.consortium.members} == members
    assert not members & {s.iri for s in answer.suggestions}
    assert answer.consortium.kinds == tuple(sorted(ORGANISATIONS[m.rsplit("/", 1)[1]]["kind"] for m in members))


def test_a_prior_co_operation_is_reported_with_the_shared_project(answer) -> None:  # noqa: ANN001
    survey = next(s for s in answer.suggestions if s.iri == org("sea-survey"))
    assert "sea-survey" in PROJECTS["monopile-design"]["partners"]
    worked = {w.member.iri: [c.iri for c in w.consortia] for w in survey.worked_with}
    assert worked == {m.iri: [f"{BASE}project/monopile-design"] for m in answer.consortium.members}
    assert survey.bonus > 0
    assert all(s.worked_with == () for s in answer.suggestions if s.iri != survey.iri)


def test_every_suggestion_names_its_projects_and_a_strength(answer) -> None:  # noqa: ANN001
    for s in answer.suggestions:
        assert s.projects and s.strength in ("strong", "fair", "weak")
        assert all(p.consortium.iri.startswith(BASE) and p.role in ("lead", "partner") for p in s.projects)
    coatings = next(s for s in answer.suggestions if s.iri == leader_of("foundation-coatings"))
    assert [p.consortium.iri for p in coatings.projects] == [f"{BASE}project/foundation-coatings"]
    assert coatings.strength == "strong"
    ward = next(s for s in answer.suggestions if s.iri == leader_of("ward-logistics"))
    assert ward.strength == "weak" and ward.bonus == 0, "an unrelated record gains nothing from what it would add"
    funder = org(PROJECTS["monopile-design"]["funders"][0])
    assert funder not in {s.iri for s in answer.suggestions}, "a funder has no track record of its own work"


def test_samples_are_marked_or_left_out(finder: PartnerFinder, answer) -> None:  # noqa: ANN001
    sample = org("sample-yard")
    assert ORGANISATIONS["sample-yard"]["sample"] is True
    shown = next(s for s in answer.suggestions if s.iri == sample)
    assert shown.is_sample and all(p.consortium.is_sample for p in shown.projects)
    left_out = finder.suggest(TEXT, HAVE, top=20, include_samples=False)
    assert left_out.samples == "exclude"
    assert not any(s.is_sample or any(p.consortium.is_sample for p in s.projects) for s in left_out.suggestions)
    assert {s.iri for s in left_out.suggestions} == {s.iri for s in answer.suggestions if not s.is_sample}


def test_an_unknown_name_is_refused_with_close_names(finder: PartnerFinder) -> None:
    with pytest.raises(UnknownOrganisation) as refused:
        finder.suggest(TEXT, ("Harbor Bilders",))
    assert "Harbor Bilders" in str(refused.value) and ORGANISATIONS["harbour-builders"]["label"] in refused.value.close


# --- names, without a model ----------------------------------------------------------------------

NAMES = {org("tno"): ("TNO", "Nederlandse Organisatie voor Toegepast Natuurwetenschappelijk Onderzoek"),
         org("tu-delft"): ("TU Delft", "Technische Universiteit Delft"),
         org("orsted"): ("Ørsted",), org("boskalis"): ("Royal Boskalis",), org("tu-eindhoven"): ("TU Eindhoven",),
         org("zeeen"): ("Zeeën Fonds",)}


@pytest.fixture
def names() -> OrganisationNames:
    return OrganisationNames(NAMES, {iri: found[0] for iri, found in NAMES.items()}, BASE)


@pytest.mark.parametrize(("given", "found"), [
    ("tno", "tno"), ("T.N.O.", "tno"), ("tu delft", "tu-delft"), ("technische universiteit delft", "tu-delft"),
    ("TUD", "tu-delft"), ("orsted", "orsted"), ("ØRSTED", "orsted"), ("Boskalis", "boskalis"),
    ("zeeen fonds", "zeeen"), ("Zeeën", "zeeen"), ("tu-delft", "tu-delft"), (f"{BASE}organisation/orsted", "orsted"),
    ("organisation/boskalis", "boskalis"), ("NOTNO", "tno"),
])
def test_names_are_found_forgivingly(names: OrganisationNames, given: str, found: str) -> None:
    assert names.find(given) == org(found)


def test_an_ambiguous_or_unknown_name_lists_close_names(names: OrganisationNames) -> None:
    with pytest.raises(UnknownOrganisation, match="more than one") as ambiguous:
        names.find("TU")
    assert set(ambiguous.value.close) == {"TU Delft", "TU Eindhoven"}
    with pytest.raises(UnknownOrganisation, match="no organisation is called 'Bokalis'") as unknown:
        names.find("Bokalis")
    assert unknown.value.close[0] == "Royal Boskalis"
    assert names.resolve(["tno", " TNO ", "", "tu delft"]) == (org("tno"), org("tu-delft"))


def test_normalised_names_drop_case_accents_and_punctuation() -> None:
    assert normalise_name("  Ørsted A/S ") == "orsted a s"
    assert normalise_name("Zeeën-Fonds") == "zeeen fonds"


# --- co-operation, from the graph ---------------------------------------------------------------

def test_the_co_operation_network_lists_shared_consortia_without_funders(store: Store) -> None:
    network = cooperation_network(store.view(INTERNAL), org("tu-zeestad"))
    members = {org(p) for p in PROJECTS["monopile-design"]["partners"]}
    assert {w.organisation.iri for w in network} == members
    assert all([c.iri for c in w.consortia] == [f"{BASE}project/monopile-design"] for w in network)
    roles = {(r.organisation, r.role) for r in load_roles(store.view(INTERNAL))}
    assert (org(PROJECTS["monopile-design"]["funders"][0]), "funder") in roles


# --- the default data -----------------------------------------------------------------------------

OFFSHORE = "Nieuwe funderingen voor offshore windturbines op zee: monopiles, geluidsarm installeren, corrosie en levensduur"


def test_offshore_wind_foundations_on_the_default_data_find_real_partners_with_real_projects(
        matcher, default_store: Store) -> None:  # noqa: ANN001
    finder = open_partner_finder(default_store, matcher, base=BASE)
    answer = finder.suggest(OFFSHORE, ("TU Delft",), top=5)
    assert answer.consortium.members[0].iri == org("tu-delft")
    assert len(answer.suggestions) == 5
    projects = yaml.safe_load((FIXTURES.parent.parent / "data" / "projects.yaml").read_text(encoding="utf-8"))["records"]
    offshore = {f"{BASE}project/{p['id']}" for p in projects if "ke-mmip-1" in p.get("mmips", [])}
    for s in answer.suggestions:
        assert not s.is_sample and s.strength == "strong"
        assert s.projects[0].consortium.iri in offshore and not s.projects[0].consortium.is_sample
        assert org("tu-delft") in {w.member.iri for w in s.worked_with}


def test_profile_vectors_are_unit_vectors_one_per_organisation_with_text(finder: PartnerFinder) -> None:
    profiles = finder.profiles()
    assert profiles.vectors.shape == (len(profiles.iris), finder.matcher.index.doc_vectors.shape[1])
    assert np.allclose(np.linalg.norm(profiles.vectors, axis=1), 1.0, atol=1e-5)
    assert org("zeeen-funds") not in profiles.iris and org("coating-works") in profiles.iris


def test_the_sparql_example_finds_who_worked_with_tno_on_mission_a(default_store: Store) -> None:
    from kg.queries import EXAMPLES, named_query

    assert "worked_with_tno_mission_a" in {name for _, name in EXAMPLES}
    rows = list(default_store.view(INTERNAL).select(named_query("worked_with_tno_mission_a")))
    simox = yaml.safe_load((FIXTURES.parent.parent / "data" / "projects.yaml").read_text(encoding="utf-8"))["records"]
    simox = next(p for p in simox if p["id"] == "simox")
    assert "tno" in simox["partners"] and "ed-a-elektriciteit" in simox["missions"]
    found = {str(r["organisation"]) for r in rows}
    assert {org(p) for p in simox["partners"] if p != "tno"} | {org(simox["lead"])} <= found
    assert org("tno") not in found
