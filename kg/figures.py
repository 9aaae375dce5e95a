"""Portfolio figures from SPARQL: MJPs per theme and cluster (the seed text's Figure 1), questions
per cluster (Figure 2), budget totals and links per MJP, next to what the agenda itself reports."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from kg.queries import named_query
from kg.stats import Count, compute_stats
from kg.store import Store


@dataclass(frozen=True)
class Share:
    iri: str
    label: str
    count: int
    share: float  # of all MJPs (Figure 1) or of all questions (Figure 2)
    samples: int


@dataclass(frozen=True)
class Figures:
    mjps: int
    sample_mjps: int
    mjps_per_theme: tuple[Share, ...]
    mjps_per_cluster: tuple[Share, ...]
    questions_per_cluster: tuple[Share, ...]
    budget: dict[str, float]
    mjps_with_budget: int
    avg_themes_per_mjp: float
    avg_clusters_per_mjp: float
    reported: tuple[dict[str, Any], ...]

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    def to_csv(self) -> str:
        """Long format, chart-ready: one row per (figure, key)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["figure", "iri", "label", "count", "share", "samples"])
        for figure in ("mjps_per_theme", "mjps_per_cluster", "questions_per_cluster"):
            for s in getattr(self, figure):
                writer.writerow([figure, s.iri, s.label, s.count, f"{s.share:.4f}", s.samples])
        for key, value in self.budget.items():
            writer.writerow(["budget_eur", "", key, f"{value:.0f}", "", ""])
        for key in ("mjps", "sample_mjps", "mjps_with_budget", "avg_themes_per_mjp", "avg_clusters_per_mjp"):
            writer.writerow(["portfolio", "", key, getattr(self, key), "", ""])
        return out.getvalue()


def compute_figures(store: Store) -> Figures:
    stats = compute_stats(store)
    totals = store.select(named_query("mjp_budget_totals"))[0]
    mjps = int(totals.get("mjps", 0))
    links = store.select(named_query("mjp_link_counts"))
    questions = [Count(str(r["cluster"]), str(r["label"]), int(r["questions"]), 0)
                 for r in store.select(named_query("questions_per_cluster"))]
    return Figures(
        mjps=mjps, sample_mjps=int(totals.get("samples", 0)),
        mjps_per_theme=_shares(stats.mjps_per_theme, mjps), mjps_per_cluster=_shares(stats.mjps_per_cluster, mjps),
        questions_per_cluster=_shares(questions, sum(q.count for q in questions)),
        budget={k: float(totals.get(f"budget{k.capitalize()}", 0) or 0)
                for k in ("total", "public", "private", "committed")},
        mjps_with_budget=int(totals.get("withTotal", 0)),
        avg_themes_per_mjp=_mean([int(r["themes"]) for r in links]),
        avg_clusters_per_mjp=_mean([int(r["clusters"]) for r in links]),
        reported=tuple({k: _plain(v) for k, v in r.items()} for r in store.select(named_query("reported_figures"))),
    )


def _shares(counts: tuple[Count, ...] | list[Count], whole: int) -> tuple[Share, ...]:
    return tuple(Share(c.iri, c.label, c.count, round(c.count / whole, 4) if whole else 0.0, c.samples)
                 for c in counts)


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def format_figures(figures: Figures) -> str:
    lines = [f"MJPs: {figures.mjps} (of which {figures.sample_mjps} samples)", "",
             "Figure 1: share of MJPs per societal theme"]
    lines += [f"  {s.label:<42} {s.count:>4}  {s.share:6.1%}" + (f"  ({s.samples} sample)" if s.samples else "")
              for s in figures.mjps_per_theme]
    lines += ["", "Figure 1: share of MJPs per technology cluster"]
    lines += [f"  {s.label:<42} {s.count:>4}  {s.share:6.1%}" + (f"  ({s.samples} sample)" if s.samples else "")
              for s in figures.mjps_per_cluster]
    lines += ["", "Figure 2: knowledge questions per technology cluster"]
    lines += [f"  {s.label:<42} {s.count:>4}" for s in figures.questions_per_cluster]
    lines += ["", f"Budget of the {figures.mjps_with_budget} MJPs that state one (EUR): "
              + ", ".join(f"{k} {v:,.0f}" for k, v in figures.budget.items()),
              f"Average per MJP: {figures.avg_themes_per_mjp} themes, {figures.avg_clusters_per_mjp} clusters"]
    for r in figures.reported:
        lines.append(f"Reported by {r.get('label', r['agenda'])}: {r['mjps']} MJPs, budget {r.get('budgetTotal')}, "
                     f"committed {r.get('budgetCommitted')}, {r.get('avgThemes')} themes and "
                     f"{r.get('avgClusters')} clusters per MJP")
    if figures.sample_mjps:
        lines += ["", "Note: sample MJPs are illustrative, not real; the real portfolio (Bijlage B) is not public."]
    return "\n".join(lines)
