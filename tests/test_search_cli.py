"""`python -m search` as a user runs it: JSON with every section, readable text, clear errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from config import Settings

Run = Callable[..., subprocess.CompletedProcess[str]]
PROPOSAL = ("Quantum sensors can measure tiny changes in gravity and magnetic fields. We want to build a compact "
            "quantum navigation unit for ships that keeps working when satellite positioning is jammed.")


@pytest.fixture(scope="module")
def search_cli(search_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The CLI against an embedded store built from the default data, with the session's model."""
    folder = tmp_path_factory.mktemp("search-cli")
    env = {**os.environ, "MK_STORE_PATH": str(folder / "store"), "MK_MODEL": str(search_settings.model),
           "MK_INDEX_PATH": str(folder / "index")}
    subprocess.run([sys.executable, "-m", "kg", "build", "--quiet"], env=env, check=True, capture_output=True)

    def run(*args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "search", *args], capture_output=True, text=True,
                              env={**env, **overrides}, timeout=900)

    return run


def test_build_then_up_to_date(search_cli: Run) -> None:
    first = search_cli("build")
    assert first.returncode == 0, first.stderr
    assert "search index built" in first.stdout
    again = search_cli("build")
    assert "search index up to date" in again.stdout


def test_match_json_has_every_section_with_explanations(search_cli: Run) -> None:
    result = search_cli("match", "--text", PROPOSAL, "--json", "--top", "3")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    for section in ("questions", "programmes", "missions", "kem_categories", "clusters", "themes"):
        assert data[section], section
    assert data["language"] == "en"
    assert "quantum-technologies" in data["clusters"][0]["iri"]
    assert all("explanation" in hit for hit in data["programmes"])


def test_match_file_readable_output(search_cli: Run, tmp_path: Path) -> None:
    proposal = tmp_path / "proposal.md"
    proposal.write_text("# Voorstel\n\nWe ontwikkelen fotonische chips die bloedwaarden meten bij de huisarts.\n")
    result = search_cli("match", str(proposal), "--top", "2")
    assert result.returncode == 0, result.stderr
    assert "Knowledge questions" in result.stdout and "Programmes" in result.stdout
    assert "Proposal language: nl" in result.stdout


@pytest.mark.parametrize("name, content, words", [
    ("empty.txt", b"", "empty"),
    ("notes.odt", b"whatever", "unsupported file type"),
    ("latin.txt", "caf\xe9 r\xe9sum\xe9".encode("latin-1"), "UTF-8"),
])
def test_bad_files_get_a_clear_message(search_cli: Run, tmp_path: Path, name: str, content: bytes, words: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = search_cli("match", str(path))
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and words in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_model_says_what_to_do(search_cli: Run, tmp_path: Path) -> None:
    result = search_cli("match", "--text", PROPOSAL, MK_MODEL=str(tmp_path / "no-model"),
                        MK_INDEX_PATH=str(tmp_path / "index"))
    assert result.returncode == 1
    assert "make model" in result.stderr and "Traceback" not in result.stderr
