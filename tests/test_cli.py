"""The `python -m kg` commands as a user runs them: real processes, exit codes, messages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import TINY

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def kg(tmp_path: Path) -> Run:
    env = {**os.environ, "MK_STORE_PATH": str(tmp_path / "store"), "MK_DATA_DIRS": str(TINY)}

    def run(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True,
                              env={**env, **(extra_env or {})}, timeout=120)

    return run


@pytest.fixture
def built(kg: Run) -> Run:
    result = kg("build", "--quiet")
    assert result.returncode == 0, result.stderr
    return kg


def test_validate_reports_zero_violations(kg: Run) -> None:
    result = kg("validate", "--quiet")
    assert result.returncode == 0
    assert result.stdout.startswith("0 violations: 18 records in 10 files")


def test_validate_with_a_bad_extra_folder_fails_clearly(kg: Run, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "programmes.yaml").write_text(
        "type: programme\nrecords:\n  - id: bad\n    label: Bad\n    kind: mjp\n    clusters: [nope]\n"
        "    source: https://example.org\n    confidence: high\n")
    result = kg("validate", "--quiet", "--data", str(extra))
    assert result.returncode == 1
    assert "extra/programmes.yaml: record 'bad', field 'clusters'" in result.stderr
    assert "Traceback" not in result.stderr


def test_stats_before_build_says_what_to_do(kg: Run) -> None:
    result = kg("stats")
    assert result.returncode == 1
    assert "python -m kg build" in result.stderr and "Traceback" not in result.stderr


def test_build_then_stats(built: Run) -> None:
    result = built("stats")
    assert result.returncode == 0
    assert "technology cluster                             2" in result.stdout


def test_query_csv_gives_exact_body(built: Run) -> None:
    sparql = ("PREFIX mk: <https://w3id.org/missiekompas/ontology#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
              "SELECT ?id ?total WHERE { ?p a mk:MJP ; mk:budgetTotal ?total . BIND(STRAFTER(STR(?p), 'programme/') AS ?id) }")
    result = built("query", "--sparql", sparql, "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.replace("\r\n", "\n") == "id,total\nstorage-mjp,1000000\n"


def test_query_named_and_from_file(built: Run, tmp_path: Path) -> None:
    named = built("query", "--named", "missions_without_programme")
    assert "healthy-years" in named.stdout and "clean-power" not in named.stdout
    query_file = tmp_path / "q.rq"
    query_file.write_text("ASK { ?s ?p ?o }")
    asked = built("query", str(query_file), "--format", "json")
    assert '"boolean":true' in asked.stdout.replace(" ", "")


def test_malformed_query_is_an_error_not_a_traceback(built: Run) -> None:
    result = built("query", "--sparql", "SELECT ?x WHERE { ?x ")
    assert result.returncode == 1
    assert result.stderr.startswith("error: malformed SPARQL")
    assert "Traceback" not in result.stderr


def test_export_writes_a_file_atomically(built: Run, tmp_path: Path) -> None:
    target = tmp_path / "dump.ttl"
    result = built("export", "--format", "ttl", "--output", str(target))
    assert result.returncode == 0
    assert "@prefix" in target.read_text() or "<https://w3id.org/missiekompas/" in target.read_text()
    assert not (tmp_path / "dump.ttl.partial").exists()


def test_bad_setting_is_reported(kg: Run) -> None:
    result = kg("stats", extra_env={"MK_STORE": "postgres"})
    assert result.returncode == 1
    assert "MK_STORE" in result.stderr and "Traceback" not in result.stderr
