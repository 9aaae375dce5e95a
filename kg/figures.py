"""Portfolio figures from SPARQL, each saying what it is computed from, next to what the agenda reports.

* Figure 1 (the KIA-ST's own figure): MJPs per societal theme and per technology cluster. The real MJP
  list (Bijlage B) is not public, so most MJPs in the graph are samples: every share counts its real
  and its sample MJPs apart, and a block made of samples only says so (`sample_only`).
* Figure 2: knowledge questions per technology cluster, with how many are proxies. Bijlage A (the
  questions of the KIA-ST) is not public either: a question counts as from Bijlage A only when its kind
  is ``bijlage_a`` (BIJLAGE_A_KIND); every other kind (proxy_knowledge_theme, nwa_question,
  agenda_pillar, deelprogramma, programme_focus, ...) or none is a proxy, a public stand-in.
* Budget totals (per amount: the sum and the MJPs stating it, real and sample apart) and links per MJP.
* Real consortia per theme and cluster: every consortium of the graph (MJPs, broadly supported
  programmes, related programmes, projects) that is not a sample, per kind: a portfolio of real records.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from kg.queries import named_query
from kg.stats import Count, count_rows
from kg.store import GraphView

BIJLAGE_A_KIND = "bijlage_a"  # the question kind of Bijlage A of the KIA-ST; every other kind is a proxy
AMOUNTS = ("total", "public", "private", "committed")
CONSORTIUM_KINDS = ("mjp", "bgp", "related", "project")  # the kinds of consortia, in the order figures list them
KIND_NAMES = {"mjp": ("MJP", "MJPs"), "bgp": ("broadly supported programme", "broadly supported programmes"),
              "related": ("related programme", "related programmes"), "project": ("project", "projects"),
              "other": ("other consortium", "other consortia")}


@dataclass(frozen=True)
class Share:
    """One bar of Figure 1: the MJPs of a theme or cluster, real and sample apart."""

    iri: str
    label: str
    count: int
    share: float  # of all MJPs
    real: int
    samples: int


@dataclass(frozen=True)
class QuestionShare:
    """One bar of Figure 2: the knowledge questions of a cluster, proxies and Bijlage A apart."""

    iri: str
    label: str
    count: int
    share: float  # of all (question, cluster) pairs
    proxies: int
    from_bijlage_a: int


@dataclass(frozen=True)
class QuestionCount:
    """The questions Figure 2 counts (those in a cluster): how many are proxies, and their kinds."""

    count: int
    proxies: int
    from_bijlage_a: int
    proxy_only: bool  # no question is from Bijlage A: the figure shows proxies only
    kinds: dict[str, int]  # question kind ("" for none) -> questions


@dataclass(frozen=True)
class BudgetLine:
    """One amount (total, public, private, committed) summed over the MJPs that state it, real and sample apart."""

    amount: str
    real: float
    samples: float
    all: float
    real_mjps: int  # real MJPs that state this amount
    sample_mjps: int
    sample_only: bool  # only sample MJPs state it: the sum says nothing about the real portfolio


@dataclass(frozen=True)
class LinksPart:
    mjps: int
    avg_themes: float
    avg_clusters: float


@dataclass(frozen=True)
class LinksPerMJP:
    """Themes and clusters per MJP, real and sample MJPs apart."""

    real: LinksPart
    samples: LinksPart
    all: LinksPart
    sample_only: bool


@dataclass(frozen=True)
class ConsortiumShare:
    """Real consortia of a theme or cluster, per kind."""

    iri: str
    label: str
    count: int
    share: float  # of all real consortia
    by_kind: dict[str, int]


@dataclass(frozen=True)
class RealConsortia:
    """The portfolio of real records: every consortium that is not a sample, per kind, theme and cluster."""

    consortia: int
    by_kind: dict[str, int]
    per_theme: tuple[ConsortiumShare, ...]
    per_cluster: tuple[ConsortiumShare, ...]


@dataclass(frozen=True)
class Figures:
    mjps: int
    real_mjps: int
    sample_mjps: int
    sample_only: bool  # every MJP is a sample: Figure 1 says nothing about the real portfolio
    mjps_per_theme: tuple[Share, ...]
    mjps_per_cluster: tuple[Share, ...]
    questions: QuestionCount
    questions_per_cluster: tuple[QuestionShare, ...]
    budget: tuple[BudgetLine, ...]
    budget_sample_only: bool  # no real MJP states any amount
    links_per_mjp: LinksPerMJP
    real_consortia: RealConsortia
    reported: tuple[dict[str, Any], ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def budget_line(self, amount: str) -> BudgetLine:
        return next(line for line in self.budget if line.amount == amount)

    def to_csv(self) -> str:
        """Long format, chart-ready: one row per (figure, key); `real` and `samples` split every MJP count,
        `proxies` the questions of Figure 2, `by_kind` the real consortia."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["figure", "iri", "label", "count", "share", "real", "samples", "proxies", "sample_only",
                         "by_kind"])
        for figure in ("mjps_per_theme", "mjps_per_cluster"):
            for s in getattr(self, figure):
                writer.writerow([figure, s.iri, s.label, s.count, f"{s.share:.4f}", s.real, s.samples, "",
                                 s.real == 0 and s.samples > 0, ""])
        for q in self.questions_per_cluster:
            writer.writerow(["questions_per_cluster", q.iri, q.label, q.count, f"{q.share:.4f}", "", "", q.proxies,
                             "", ""])
        for kind, n in self.questions.kinds.items():
            writer.writerow(["question_kinds", "", kind, n, "", "", "", "" if kind == BIJLAGE_A_KIND else n, "", ""])
        for line in self.budget:
            writer.writerow(["budget_eur", "", line.amount, f"{line.all:.0f}", "", f"{line.real:.0f}",
                             f"{line.samples:.0f}", "", line.sample_only, ""])
            writer.writerow(["budget_mjps", "", line.amount, line.real_mjps + line.sample_mjps, "", line.real_mjps,
                             line.sample_mjps, "", line.sample_only, ""])
        links = self.links_per_mjp
        for key in ("avg_themes", "avg_clusters"):
            writer.writerow(["links_per_mjp", "", key, getattr(links.all, key), "", getattr(links.real, key),
                             getattr(links.samples, key), "", links.sample_only, ""])
        writer.writerow(["portfolio", "", "mjps", self.mjps, "", self.real_mjps, self.sample_mjps, "", self.sample_only,
                         ""])
        writer.writerow(["portfolio", "", "questions", self.questions.count, "", "", "", self.questions.proxies,
                         "", ""])
        real = self.real_consortia
        writer.writerow(["portfolio", "", "real_consortia", real.consortia, "", real.consortia, 0, "", False,
                         _kinds_cell(real.by_kind)])
        for figure, shares in (("real_consortia_per_theme", real.per_theme), ("real_consortia_per_cluster",
                                                                               real.per_cluster)):
            for c in shares:
                writer.writerow([figure, c.iri, c.label, c.count, f"{c.share:.4f}", c.count, 0, "", False,
                                 _kinds_cell(c.by_kind)])
        return out.getvalue()


def _kinds_cell(by_kind: dict[str, int]) -> str:
    return "; ".join(f"{kind} {n}" for kind, n in by_kind.items())


def compute_figures(store: GraphView) -> Figures:
    parts = {str(r["part"]): r for r in store.select(named_query("mjp_budget_totals"))}
    real, samples = (int(parts.get(p, {}).get("mjps", 0)) for p in ("real", "samples"))
    mjps = real + samples
    budget = tuple(_budget_line(amount, parts.get("real", {}), parts.get("samples", {})) for amount in AMOUNTS)
    questions = [QuestionShare(str(r["cluster"]), str(r["label"]), int(r["questions"]), 0.0,
                               int(r["questions"]) - int(r.get("bijlageA", 0)), int(r.get("bijlageA", 0)))
                 for r in store.select(named_query("questions_per_cluster"))]
    pairs = sum(q.count for q in questions)
    kinds = {str(r.get("kind", "")): int(r["questions"]) for r in store.select(named_query("question_kinds"))}
    from_a = kinds.get(BIJLAGE_A_KIND, 0)
    counted = sum(kinds.values())
    return Figures(
        mjps=mjps, real_mjps=real, sample_mjps=samples, sample_only=real == 0 and samples > 0,
        mjps_per_theme=_shares(count_rows(store, "mjps_per_theme", "theme", "mjps"), mjps),
        mjps_per_cluster=_shares(count_rows(store, "mjps_per_cluster", "cluster", "mjps"), mjps),
        questions=QuestionCount(counted, counted - from_a, from_a, counted > 0 and from_a == 0, kinds),
        questions_per_cluster=tuple(QuestionShare(q.iri, q.label, q.count, round(q.count / pairs, 4) if pairs else 0.0,
                                                  q.proxies, q.from_bijlage_a) for q in questions),
        budget=budget, budget_sample_only=all(line.real_mjps == 0 for line in budget) and any(
            line.sample_mjps for line in budget),
        links_per_mjp=_links(store.select(named_query("mjp_link_counts"))),
        real_consortia=_real_consortia(store.select(named_query("real_consortia"))),
        reported=tuple({k: _plain(v) for k, v in r.items()} for r in store.select(named_query("reported_figures"))),
    )


def _budget_line(amount: str, real: dict[str, Any], samples: dict[str, Any]) -> BudgetLine:
    key = amount.capitalize()
    real_sum, sample_sum = (float(part.get(f"budget{key}", 0) or 0) for part in (real, samples))
    real_mjps, sample_mjps = (int(part.get(f"with{key}", 0)) for part in (real, samples))
    return BudgetLine(amount, real_sum, sample_sum, real_sum + sample_sum, real_mjps, sample_mjps,
                      real_mjps == 0 and sample_mjps > 0)


def _links(rows: list[dict[str, Any]]) -> LinksPerMJP:
    def part(chosen: list[dict[str, Any]]) -> LinksPart:
        return LinksPart(len(chosen), _mean([int(r["themes"]) for r in chosen]),
                         _mean([int(r["clusters"]) for r in chosen]))

    real = part([r for r in rows if not r.get("sample")])
    samples = part([r for r in rows if r.get("sample")])
    return LinksPerMJP(real, samples, part(rows), real.mjps == 0 and samples.mjps > 0)


def _real_consortia(rows: list[dict[str, Any]]) -> RealConsortia:
    by_kind: dict[str, int] = dict.fromkeys(CONSORTIUM_KINDS, 0)
    labels: dict[str, dict[str, str]] = {"theme": {}, "cluster": {}}
    counts: dict[str, dict[str, dict[str, int]]] = {"theme": defaultdict(dict), "cluster": defaultdict(dict)}
    for row in rows:
        facet, n = str(row["facet"]), int(row["consortia"])
        kind = str(row.get("kind") or "other")
        if facet == "all":
            by_kind[kind] = by_kind.get(kind, 0) + n
            continue
        iri = str(row["iri"])
        labels[facet][iri] = str(row["label"])
        if n:
            counts[facet][iri][kind] = counts[facet][iri].get(kind, 0) + n
    total = sum(by_kind.values())

    def shares(facet: str) -> tuple[ConsortiumShare, ...]:
        found = []
        for iri, label in labels[facet].items():
            kinds = {**dict.fromkeys(CONSORTIUM_KINDS, 0), **counts[facet].get(iri, {})}
            count = sum(kinds.values())  # a consortium is of one kind, so the kinds add up
            found.append(ConsortiumShare(iri, label, count, round(count / total, 4) if total else 0.0, kinds))
        return tuple(sorted(found, key=lambda c: (-c.count, c.label.casefold())))

    return RealConsortia(total, by_kind, shares("theme"), shares("cluster"))


def _shares(counts: tuple[Count, ...] | list[Count], whole: int) -> tuple[Share, ...]:
    return tuple(Share(c.iri, c.label, c.count, round(c.count / whole, 4) if whole else 0.0, c.count - c.samples,
                       c.samples) for c in counts)


def _mean(values: list[int]) -> float:
    return round(sum(values) / len(values), 2) if values else 0.0


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def _split(real: int, samples: int, noun: str = "") -> str:
    return f"{real} real, {samples} sample{' ' + noun if noun else ''}"


def _kind_count(n: int, kind: str) -> str:
    singular, plural = KIND_NAMES.get(kind, (kind, kind + "s"))
    return f"{n} {singular if n == 1 else plural}"


def _money(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.0f}"


def format_figures(figures: Figures) -> str:
    """Every figure as text: computed from the graph (N real, M sample) | reported by the agenda."""
    reported = figures.reported
    lines = []
    if figures.sample_mjps:
        lines += [f"Note: {figures.sample_mjps} of the {figures.mjps} MJPs are samples (illustrative, not real); the "
                  "real MJP list (Bijlage B) is not public. Figure 1, the budgets and the links per MJP rest on them "
                  "where they say so; the real consortia at the end do not.", ""]
    lines.append(f"MJPs: computed from the graph {figures.mjps} ({_split(figures.real_mjps, figures.sample_mjps)})"
                 + "".join(f" | reported by {_agenda(r)}: {r.get('mjps')}" for r in reported))
    for title, shares in (("societal theme", figures.mjps_per_theme), ("technology cluster", figures.mjps_per_cluster)):
        lines += ["", f"Figure 1: share of MJPs per {title}, computed from the graph "
                  f"({_split(figures.real_mjps, figures.sample_mjps, 'MJPs')})"
                  + (" - SAMPLES ONLY" if figures.sample_only else ""),
                  f"  {'':<42} {'MJPs':>5} {'share':>7} {'real':>5} {'sample':>7}"]
        lines += [f"  {s.label:<42} {s.count:>5} {s.share:>7.1%} {s.real:>5} {s.samples:>7}"
                  + ("  (samples only)" if s.samples and not s.real else "") for s in shares]
    q = figures.questions
    lines += ["", f"Figure 2: knowledge questions per technology cluster, computed from the graph ({q.count} questions "
              f"in a cluster: {q.proxies} proxies, {q.from_bijlage_a} from Bijlage A)",
              f"  {'':<42} {'questions':>9} {'proxies':>8}"]
    lines += [f"  {s.label:<42} {s.count:>9} {s.proxies:>8}" for s in figures.questions_per_cluster]
    kinds = ", ".join(f"{kind or '(no kind)'} {n}" for kind, n in q.kinds.items())
    lines.append(f"  Proxies are the questions whose kind is not {BIJLAGE_A_KIND}: {kinds or 'none'}."
                 + (" Bijlage A is not public: this figure shows proxies only." if q.proxy_only else ""))
    lines += ["", "Budget (EUR): computed from the graph (real | sample MJPs that state it)"
              + "".join(f" | reported by {_agenda(r)}" for r in reported)]
    reported_amount = {"total": "budgetTotal", "committed": "budgetCommitted"}
    for line in figures.budget:
        lines.append(f"  {line.amount:<10} {line.all:>15,.0f} (real {line.real:,.0f} of {line.real_mjps}, sample "
                     f"{line.samples:,.0f} of {line.sample_mjps})"
                     + "".join(f" | {_money(r.get(reported_amount[line.amount]))}" if line.amount in reported_amount
                               else " | –" for r in reported)
                     + ("  SAMPLES ONLY" if line.sample_only else ""))
    total = figures.budget_line("total")
    if total.sample_only:
        lines.append(f"  The total budget of the {total.sample_mjps} MJPs that state one comes from samples only: it "
                     "says nothing about the real portfolio.")
    links = figures.links_per_mjp
    lines += ["", f"Links per MJP, computed from the graph: {links.all.avg_themes} themes and {links.all.avg_clusters} "
              f"clusters (real: {links.real.avg_themes} and {links.real.avg_clusters} over {links.real.mjps}; sample: "
              f"{links.samples.avg_themes} and {links.samples.avg_clusters} over {links.samples.mjps})"
              + ("  SAMPLES ONLY" if links.sample_only else "")
              + "".join(f" | reported by {_agenda(r)}: {r.get('avgThemes')} themes and {r.get('avgClusters')} clusters"
                        for r in reported)]
    real = figures.real_consortia
    kinds_text = ", ".join(_kind_count(n, k) for k, n in real.by_kind.items() if n)
    lines += ["", f"Real consortia (MJPs, programmes and projects; no samples): {real.consortia}"
              + (f" ({kinds_text})" if kinds_text else "")]
    columns = [k for k in real.by_kind if k in CONSORTIUM_KINDS or real.by_kind[k]]
    for title, shares in (("societal theme", real.per_theme), ("technology cluster", real.per_cluster)):
        lines += [f"  per {title}:", f"    {'':<40} {'all':>5} {'share':>7} " + " ".join(f"{k:>7}" for k in columns)]
        lines += [f"    {c.label:<40} {c.count:>5} {c.share:>7.1%} " + " ".join(f"{c.by_kind.get(k, 0):>7}" for k in columns)
                  for c in shares]
    return "\n".join(lines)


def _agenda(reported: dict[str, Any]) -> str:
    return str(reported.get("label") or reported.get("agenda"))
