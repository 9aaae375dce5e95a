"""`python -m search gaps | plan-gaps | overlaps | calibrate` as a user runs them: on the analytics
fixture (answers known by construction) and on the shipped data (which holds sample MJPs); every
consortium counts (MJPs, programmes, projects), the samples unless --no-samples leaves them out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from config import Settings
from tests.analytics_data import ANALYTICS

Run = Callable[..., subprocess.CompletedProcess[str]]


def cli(settings: Settings, folder: Path, data_dirs: str | None) -> Run:
    env = {**os.environ, "MK_STORE_PATH": str(folder / "store"), "MK_MODEL": str(settings.model),
           "MK_INDEX_PATH": str(folder / "index")}
    if data_dirs:
        env["MK_DATA_DIRS"] = data_dirs
    subprocess.run([sys.executable, "-m", "kg", "build", "--quiet"], env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "search", "build"], env=env, check=True, capture_output=True)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "search", *args], capture_output=True, text=True, env=env,
                              timeout=300)

    return run


@pytest.fixture(scope="module")
def fixture_cli(search_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return cli(search_settings, tmp_path_factory.mktemp("analytics-cli"), str(ANALYTICS))


@pytest.fixture(scope="module")
def default_cli(search_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Run:
    return cli(search_settings, tmp_path_factory.mktemp("analytics-cli-default"), None)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_gaps_json_puts_the_mission_without_consortium_first(fixture_cli: Run) -> None:
    data = json.loads(ok(fixture_cli("gaps", "--json")))
    assert data["items"][0]["item"]["iri"].endswith("/mission/m-radio-astronomy")
    assert data["items"][0]["linked_consortia"] == 0 and data["counts"]["blank"] >= 1
    assert (data["consortia"], data["real_consortia"], data["sample_consortia"], data["samples"]) == (7, 5, 2, "include")


def test_no_samples_turns_a_sample_only_link_into_a_blank_spot(fixture_cli: Run) -> None:
    status = {i["item"]["iri"].rsplit("/", 1)[1]: i["status"] for i in json.loads(ok(fixture_cli("gaps", "--json")))["items"]}
    real = json.loads(ok(fixture_cli("gaps", "--json", "--no-samples")))
    assert status["m-textile"] == "covered"
    assert {i["item"]["iri"].rsplit("/", 1)[1]: i["status"] for i in real["items"]}["m-textile"] == "blank"
    assert (real["consortia"], real["sample_consortia"], real["samples"], real["samples_left_out"]) == (5, 0, "exclude", 2)
    text = ok(fixture_cli("gaps", "--no-samples"))
    assert "7 consortia" not in text and "5 consortia (MJPs, programmes and projects): 5 real, 0 samples" in text
    assert "2 samples left out (--no-samples)" in text and "[sample]" not in text


def test_plan_gaps_of_an_mjp_and_of_a_file(fixture_cli: Run, tmp_path: Path) -> None:
    data = json.loads(ok(fixture_cli("plan-gaps", "storage-plan", "--json")))
    assert [g["question"]["iri"].rsplit("/", 1)[1] for g in data["blank_spots"]] == ["q-blades"]
    plan = tmp_path / "plan.md"
    plan.write_text("# Plan\n\nWe develop iridium-free catalysts for electrolysers that make green hydrogen, and test "
                    "the new electrode materials in small cells against commercial ones for a whole year.\n")
    text = ok(fixture_cli("plan-gaps", str(plan)))
    assert "Blank spots of plan.md (uploaded plan" in text and "Not addressed, most relevant first:" in text


def test_overlaps_name_the_near_duplicates_and_the_sample(fixture_cli: Run) -> None:
    text = ok(fixture_cli("overlaps"))
    first = text.split("Pairs, most similar first:")[1].splitlines()[1]
    assert "Iridium-free electrolysers" in first and "Electrolysers without iridium [sample]" in first
    assert "[sample] marks illustrative records" in text


def test_calibrate_counts_the_links_it_learns_from(fixture_cli: Run) -> None:
    data = json.loads(ok(fixture_cli("calibrate", "--json")))
    # 7 consortia x (4 questions + 5 missions + 1 MMIP); links: 5 to questions, 7 to missions, 1 to the MMIP
    assert (data["gap"]["pairs"], data["gap"]["positives"]) == (70, 13)
    # 21 pairs; the three hydrogen MJPs share a question and a mission, soil-mjp and the BGP a mission
    assert (data["overlap"]["pairs"], data["overlap"]["positives"]) == (21, 4)
    assert -1 <= data["gap"]["threshold"] <= 1 and data["gap"]["f1"] > 0
    real = json.loads(ok(fixture_cli("calibrate", "--json", "--no-samples")))
    # 5 real consortia x 10 targets; the samples' 3 mission links, 1 question link and 1 MMIP link are gone
    assert (real["gap"]["pairs"], real["gap"]["positives"], real["overlap"]["pairs"]) == (50, 9, 10)


@pytest.mark.parametrize("args, words", [
    (("plan-gaps", "no-such-mjp"), "is no MJP, programme or project"),
    (("plan-gaps", "question/q-soil"), "neither a consortium id"),
    (("plan-gaps", "electrolysis-b", "--no-samples"), "is a sample"),
    (("plan-gaps", "missing.pdf"), "does not exist"),
    (("overlaps", "--threshold", "2"), "between -1 and 1"),
])
def test_errors_are_one_line(fixture_cli: Run, args: tuple[str, ...], words: str) -> None:
    result = fixture_cli(*args)
    assert result.returncode == 1 and result.stderr.startswith("error: ") and words in result.stderr
    assert "Traceback" not in result.stderr


def test_default_data_says_when_records_are_samples(default_cli: Run) -> None:
    gaps = ok(default_cli("gaps", "--top", "5"))
    assert "real, 11 samples (13 MJPs, 5 broadly supported programmes, 11 related programmes, 45 projects)" in gaps
    assert "[sample] marks illustrative records" in gaps
    real = json.loads(ok(default_cli("gaps", "--json", "--no-samples")))
    assert (real["sample_consortia"], real["samples_left_out"]) == (0, 11) and real["consortia_by_kind"]["project"] == {
        "real": 45, "samples": 0}
    plan = ok(default_cli("plan-gaps", "sample-mjp-04"))
    assert plan.startswith("Blank spots of Voorbeeld-MJP") and "This plan is a sample consortium." in plan
    project = ok(default_cli("plan-gaps", "project/simox", "--no-samples"))
    assert project.startswith("Blank spots of Sustainable Installation of XXL Monopiles (project)")
    overlaps = ok(default_cli("overlaps"))
    pairs = overlaps.split("Pairs, most similar first:")[1].splitlines()
    assert "CS4NL (broadly supported programme)  <->  Exceed (broadly supported programme)" in pairs[1]  # real, no [sample]
    second = next(line for line in pairs[2:] if line.startswith("   2."))
    assert "groene waterstof [sample]" in second and second.count("[sample]") == 2  # sample-mjp-04 and -09
    data = json.loads(ok(default_cli("overlaps", "--json")))
    top = [{p["first"]["iri"].rsplit("/", 1)[1], p["second"]["iri"].rsplit("/", 1)[1]} for p in data["pairs"][:2]]
    assert top == [{"cs4nl", "exceed"}, {"sample-mjp-04", "sample-mjp-09"}]
    real = json.loads(ok(default_cli("overlaps", "--json", "--no-samples")))
    assert real["pairs"] and not any(m["is_sample"] for p in real["pairs"] for m in (p["first"], p["second"]))
