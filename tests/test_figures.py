"""Portfolio figures equal counts worked out by hand on the tiny fixture dataset: every computed block with its real
and sample parts, what rests on samples only flagged, the proxies of Figure 2, and the real consortia."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg.access import INTERNAL, PUBLIC
from kg.build import build
from kg.figures import compute_figures, format_figures
from kg.store import MemoryStore, Store
from tests.conftest import BASE, FIXTURES, TINY

# tests/fixtures/tiny: MJPs storage-mjp (themes energy; clusters alpha, beta; budget 1,000,000 = 600,000 public +
# 400,000 private, 500,000 committed) and sample-sensing (a sample: themes health, energy; cluster beta; no budget);
# BGP broad-one (cluster alpha) and project grid-battery (cluster alpha). Questions, without a kind (so proxies):
# q-storage (alpha), q-sensors (alpha, beta). tests/fixtures/internal adds the internal sample MJP secret-mjp
# (theme energy, cluster alpha, budget 7,777,777).


def by_id(shares: tuple) -> dict[str, tuple[int, float, int, int]]:
    return {s.iri.rsplit("/", 1)[1]: (s.count, s.share, s.real, s.samples) for s in shares}


def test_figure_1_shares_of_mjps_with_real_and_samples(tiny_store: Store) -> None:
    figures = compute_figures(tiny_store)
    assert (figures.mjps, figures.real_mjps, figures.sample_mjps, figures.sample_only) == (2, 1, 1, False)
    assert by_id(figures.mjps_per_theme) == {"energy": (2, 1.0, 1, 1), "health": (1, 0.5, 0, 1)}
    assert by_id(figures.mjps_per_cluster) == {"beta-tech": (2, 1.0, 1, 1), "alpha-tech": (1, 0.5, 1, 0)}


def test_figure_2_questions_per_cluster_are_proxies(tiny_store: Store) -> None:
    figures = compute_figures(tiny_store)
    assert {q.iri.rsplit("/", 1)[1]: (q.count, q.share, q.proxies, q.from_bijlage_a)
            for q in figures.questions_per_cluster} == {"alpha-tech": (2, 0.6667, 2, 0), "beta-tech": (1, 0.3333, 1, 0)}
    assert (figures.questions.count, figures.questions.proxies, figures.questions.proxy_only) == (2, 2, True)
    assert figures.questions.kinds == {"": 2}  # no kind given: not from Bijlage A


def test_a_question_of_kind_bijlage_a_is_no_proxy(tiny_copy: Path, edit_file, settings) -> None:  # noqa: ANN001
    edit_file(tiny_copy / "questions.yaml", "  - id: q-storage\n", "  - id: q-storage\n    kind: bijlage_a\n")
    store = MemoryStore()
    build((tiny_copy,), settings.base_uri, store)
    figures = compute_figures(store)
    alpha = next(q for q in figures.questions_per_cluster if q.iri.endswith("/alpha-tech"))
    assert (alpha.count, alpha.proxies, alpha.from_bijlage_a) == (2, 1, 1)
    assert (figures.questions.proxies, figures.questions.from_bijlage_a, figures.questions.proxy_only) == (1, 1, False)


def test_budget_and_links_per_mjp_real_and_samples_apart(tiny_store: Store) -> None:
    figures = compute_figures(tiny_store)
    total = figures.budget_line("total")
    assert (total.real, total.samples, total.all, total.real_mjps, total.sample_mjps, total.sample_only) == (
        1_000_000, 0, 1_000_000, 1, 0, False)
    assert {line.amount: line.all for line in figures.budget} == {"total": 1_000_000, "public": 600_000,
                                                                   "private": 400_000, "committed": 500_000}
    assert not figures.budget_sample_only
    links = figures.links_per_mjp
    assert (links.all.avg_themes, links.all.avg_clusters) == (1.5, 1.5)  # (1 + 2) / 2 and (2 + 1) / 2
    assert (links.real.mjps, links.real.avg_themes, links.real.avg_clusters) == (1, 1.0, 2.0)
    assert (links.samples.mjps, links.samples.avg_themes, links.samples.avg_clusters) == (1, 2.0, 1.0)
    [reported] = figures.reported
    assert reported["agenda"] == f"{BASE}agenda/test-agenda" and reported["mjps"] == 51


def test_real_consortia_per_theme_and_cluster(tiny_store: Store) -> None:
    real = compute_figures(tiny_store).real_consortia
    assert real.consortia == 3 and real.by_kind == {"mjp": 1, "bgp": 1, "related": 0, "project": 1}
    per_cluster = {c.iri.rsplit("/", 1)[1]: (c.count, c.by_kind) for c in real.per_cluster}
    assert per_cluster == {"alpha-tech": (3, {"mjp": 1, "bgp": 1, "related": 0, "project": 1}),
                           "beta-tech": (1, {"mjp": 1, "bgp": 0, "related": 0, "project": 0})}
    assert {c.iri.rsplit("/", 1)[1]: c.count for c in real.per_theme} == {"energy": 1, "health": 0}  # no sample counts


def test_a_block_made_of_samples_only_is_flagged(settings) -> None:  # noqa: ANN001
    store = MemoryStore()
    build((TINY, FIXTURES / "internal"), settings.base_uri, store)
    public, internal = compute_figures(store.view(PUBLIC)), compute_figures(store.view(INTERNAL))
    assert not public.budget_line("total").sample_only  # storage-mjp is real
    # the internal draft is a sample that states a budget: the internal total gains a sample part
    total = internal.budget_line("total")
    assert (total.real, total.samples, total.real_mjps, total.sample_mjps) == (1_000_000, 7_777_777, 1, 1)
    only_samples = MemoryStore()  # the tiny data without its one real MJP: every MJP figure rests on samples
    build((TINY, FIXTURES / "internal"), settings.base_uri, only_samples)
    only_samples.update(f"DELETE WHERE {{ GRAPH ?g {{ <{BASE}programme/storage-mjp> ?p ?o }} }}")
    figures = compute_figures(only_samples)
    assert figures.real_mjps == 0 and figures.sample_only and figures.links_per_mjp.sample_only
    assert figures.budget_line("total").sample_only and figures.budget_sample_only
    data = json.loads(figures.to_json())
    assert data["sample_only"] is True and data["budget_sample_only"] is True
    assert {line["amount"]: line["sample_only"] for line in data["budget"]} == dict.fromkeys(
        ("total", "public", "private", "committed"), True)
    assert "SAMPLES ONLY" in format_figures(figures) and "comes from samples only" in format_figures(figures)


def test_json_csv_and_text_agree(tiny_store: Store) -> None:
    figures = compute_figures(tiny_store)
    data = json.loads(figures.to_json())
    assert data["mjps_per_cluster"][0] == {"iri": f"{BASE}cluster/beta-tech", "label": "Beta technology", "count": 2,
                                           "share": 1.0, "real": 1, "samples": 1}
    assert (data["mjps"], data["real_mjps"], data["sample_mjps"]) == (2, 1, 1)
    assert data["budget"][0] == {"amount": "total", "real": 1_000_000, "samples": 0, "all": 1_000_000, "real_mjps": 1,
                                 "sample_mjps": 0, "sample_only": False}
    assert data["questions"]["proxies"] == 2 and data["real_consortia"]["consortia"] == 3
    rows = list(csv.DictReader(io.StringIO(figures.to_csv())))
    energy = next(r for r in rows if r["figure"] == "mjps_per_theme" and r["iri"].endswith("/energy"))
    assert (energy["count"], energy["share"], energy["real"], energy["samples"]) == ("2", "1.0000", "1", "1")
    alpha = next(r for r in rows if r["figure"] == "questions_per_cluster" and r["iri"].endswith("/alpha-tech"))
    assert (alpha["count"], alpha["proxies"]) == ("2", "2")
    budget = next(r for r in rows if r["figure"] == "budget_eur" and r["label"] == "total")
    assert (budget["count"], budget["real"], budget["samples"], budget["sample_only"]) == ("1000000", "1000000", "0",
                                                                                          "False")
    assert any(r["figure"] == "real_consortia_per_cluster" and r["count"] == "3" for r in rows)
    text = format_figures(figures)
    assert "MJPs: computed from the graph 2 (1 real, 1 sample) | reported by" in text and ": 51" in text
    assert "(2 questions in a cluster: 2 proxies, 0 from Bijlage A)" in text and "proxies only" in text
    assert "Real consortia (MJPs, programmes and projects; no samples): 3 (1 MJP, 1 broadly supported programme, " \
           "1 project)" in text


@pytest.fixture(scope="module")
def figures_cli(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """`python -m kg figures` over the tiny data with the internal fixture (a sample MJP only the Kernteam sees)."""
    folder = tmp_path_factory.mktemp("figures-cli")
    env = {**os.environ, "MK_STORE_PATH": str(folder / "store"), "MK_DATA_DIRS": f"{TINY}:{FIXTURES / 'internal'}"}
    subprocess.run([sys.executable, "-m", "kg", "build", "--quiet"], env=env, check=True, capture_output=True)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "kg", *args], env=env, capture_output=True, text=True, timeout=120)

    return run


@pytest.mark.parametrize("flag", ["--json", "--csv"])
def test_cli_prints_figures(figures_cli, flag: str) -> None:  # noqa: ANN001
    result = figures_cli("figures", flag)
    assert result.returncode == 0, result.stderr
    assert ("mjps_per_theme" in result.stdout) and ("energy" in result.stdout)


def test_cli_reads_the_public_view_unless_asked_and_says_which(figures_cli) -> None:  # noqa: ANN001
    public = figures_cli("figures", "--json")
    internal = figures_cli("figures", "--json", "--audience", "internal")
    assert public.returncode == internal.returncode == 0, public.stderr + internal.stderr
    assert public.stderr.strip() == "reading the public view (use --audience internal for the Kernteam view)"
    assert internal.stderr.strip() == "reading the internal (Kernteam) view: internal records included"
    seen, kernteam = json.loads(public.stdout), json.loads(internal.stdout)
    assert (seen["mjps"], seen["sample_mjps"]) == (2, 1) and (kernteam["mjps"], kernteam["sample_mjps"]) == (3, 2)
    assert kernteam["budget"][0]["samples"] - seen["budget"][0]["samples"] == 7_777_777
    assert "7777777" not in public.stdout


def test_cli_query_takes_the_audience_too(figures_cli) -> None:  # noqa: ANN001
    sparql = "SELECT ?p WHERE { ?p <http://www.w3.org/2004/02/skos/core#prefLabel> \"Quokka lighthouse draft\"@en }"
    public = figures_cli("query", "--sparql", sparql, "--format", "csv")
    internal = figures_cli("query", "--sparql", sparql, "--format", "csv", "--audience", "internal")
    assert public.returncode == internal.returncode == 0, public.stderr + internal.stderr
    assert "secret-mjp" not in public.stdout and f"{BASE}programme/secret-mjp" in internal.stdout
    assert "reading the public view" in public.stderr and "reading the internal (Kernteam) view" in internal.stderr
    named = figures_cli("query", "--named", "portfolio_links", "--audience", "internal")
    assert "secret-mjp" in named.stdout and "secret-mjp" not in figures_cli("query", "--named", "portfolio_links").stdout
