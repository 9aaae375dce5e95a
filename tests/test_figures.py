"""Portfolio figures equal counts worked out by hand on the tiny fixture dataset."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg.figures import compute_figures, format_figures
from kg.store import Store
from tests.conftest import BASE

# tests/fixtures/tiny: MJPs storage-mjp (themes energy; clusters alpha, beta; budget 1,000,000 =
# 600,000 public + 400,000 private, 500,000 committed) and sample-sensing (themes health, energy;
# cluster beta; no budget). Questions: q-storage (alpha), q-sensors (alpha, beta).


def by_id(shares: tuple) -> dict[str, tuple[int, float, int]]:
    return {s.iri.rsplit("/", 1)[1]: (s.count, s.share, s.samples) for s in shares}


def test_figure_1_shares_of_mjps(tiny_store: Store) -> None:
    figures = compute_figures(tiny_store)
    assert (figures.mjps, figures.sample_mjps) == (2, 1)
    assert by_id(figures.mjps_per_theme) == {"energy": (2, 1.0, 1), "health": (1, 0.5, 1)}
    assert by_id(figures.mjps_per_cluster) == {"beta-tech": (2, 1.0, 1), "alpha-tech": (1, 0.5, 0)}


def test_figure_2_questions_per_cluster(tiny_store: Store) -> None:
    assert by_id(compute_figures(tiny_store).questions_per_cluster) == {"alpha-tech": (2, 0.6667, 0),
                                                                         "beta-tech": (1, 0.3333, 0)}


def test_budget_and_links_per_mjp(tiny_store: Store) -> None:
    figures = compute_figures(tiny_store)
    assert figures.budget == {"total": 1_000_000, "public": 600_000, "private": 400_000, "committed": 500_000}
    assert figures.mjps_with_budget == 1
    assert figures.avg_themes_per_mjp == 1.5  # (1 + 2) / 2
    assert figures.avg_clusters_per_mjp == 1.5  # (2 + 1) / 2
    [reported] = figures.reported
    assert reported["agenda"] == f"{BASE}agenda/test-agenda" and reported["mjps"] == 51


def test_json_csv_and_text_agree(tiny_store: Store) -> None:
    figures = compute_figures(tiny_store)
    assert json.loads(figures.to_json())["mjps_per_cluster"][0]["count"] == 2
    rows = list(csv.DictReader(io.StringIO(figures.to_csv())))
    energy = next(r for r in rows if r["figure"] == "mjps_per_theme" and r["iri"].endswith("/energy"))
    assert (energy["count"], energy["share"]) == ("2", "1.0000")
    assert "sample MJPs are illustrative" in format_figures(figures)


@pytest.mark.parametrize("flag", ["--json", "--csv"])
def test_cli_prints_figures(flag: str, tmp_path: Path) -> None:
    env = {**os.environ, "MK_STORE_PATH": str(tmp_path / "store"), "MK_DATA_DIRS": "tests/fixtures/tiny"}
    subprocess.run([sys.executable, "-m", "kg", "build", "--quiet"], env=env, check=True, capture_output=True)
    result = subprocess.run([sys.executable, "-m", "kg", "figures", flag], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert ("mjps_per_theme" in result.stdout) and ("energy" in result.stdout)
