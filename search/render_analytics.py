"""Kernteam analytics as readable text for the terminal: blank spots, plan gaps, overlaps, calibration."""

from __future__ import annotations

import textwrap

from kg.figures import KIND_NAMES
from search.calibration import Calibrations
from search.gaps import Coverage, MissionGaps
from search.overlaps import Overlaps
from search.plan_gaps import PlanGaps, QuestionGap
from search.portfolio import PortfolioCount, Ref
from search.similarity import Calibration

SAMPLE_LINE = "[sample] marks illustrative records (sample consortia), not real programmes or projects."
STATUS_TEXT = {"blank": "no linked consortium and no consortium text reaches the threshold",
               "unlinked": "no linked consortium, but a consortium text reaches the threshold",
               "weak": "linked consortia, but no consortium text reaches the threshold",
               "covered": "linked, and a consortium text reaches the threshold"}
KIND_NAMES_ITEMS = {"mission": "mission", "mmip": "MMIP", "question": "mission question"}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _kind_count(n: int, kind: str) -> str:
    singular, plural = KIND_NAMES.get(kind, (kind, kind + "s"))
    return f"{n} {singular if n == 1 else plural}"


def _name(ref: Ref) -> str:
    kind = getattr(ref, "kind", "")
    shown = f" ({KIND_NAMES[kind][0]})" if kind and kind != "mjp" and kind in KIND_NAMES else ""
    return ref.label + shown + (" [sample]" if ref.is_sample else "")


def portfolio_text(count: PortfolioCount) -> str:
    """'74 consortia (MJPs, programmes and projects): 63 real, 11 samples (...)', as every answer opens."""
    kinds = ", ".join(_kind_count(sum(split.values()), kind) for kind, split in count.by_kind.items() if sum(split.values()))
    text = (f"{count.consortia} consortia (MJPs, programmes and projects): {count.real} real, "
            f"{_count(count.samples, 'sample')}" + (f" ({kinds})" if kinds else ""))
    if count.with_text < count.consortia:
        text += f"; {count.with_text} of them with text in the search index"
    if not count.samples_included:
        text += f"; {_count(count.samples_left_out, 'sample')} left out (--no-samples)"
    return text


def _sample_lines(count: PortfolioCount, counted: str) -> list[str]:
    if count.samples:
        return ["", f"{SAMPLE_LINE} {counted} Leave them out with --no-samples."]
    if count.samples_left_out:
        return ["", f"Samples left out (--no-samples): {count.samples_left_out} sample consortia did not count."]
    return []


def render_gaps(gaps: MissionGaps, top: int) -> str:
    counts = gaps.counts()
    kinds = ", ".join(_count(sum(c.kind == k for c in gaps.items), name) for k, name in KIND_NAMES_ITEMS.items())
    lines = [f"Mission blank spots: {kinds} against {portfolio_text(gaps.portfolio)}; "
             f"similarity threshold {gaps.threshold}",
             *(f"  {counts[s]:4d} {s:9s} {text}" for s, text in STATUS_TEXT.items()), "",
             "Ranked: fewest linked consortia first, then lowest best similarity"]
    shown = [c for c in gaps.items if c.status != "covered"][:top]
    lines += [line for rank, c in enumerate(shown, 1) for line in _coverage(rank, c)] or ["  (none)"]
    lines += _sample_lines(gaps.portfolio, "The linked counts include samples where it says so.")
    return "\n".join(lines)


def _coverage(rank: int, c: Coverage) -> list[str]:
    kinds = ", ".join(_kind_count(n, k) for k, n in c.linked_by_kind.items() if n)
    detail = "; ".join(part for part in (kinds, f"{c.linked_samples} samples" if c.linked_samples else "") if part)
    best = f"{c.best_similarity:.3f}, {_name(c.best_consortium)}" if c.best_consortium else "-"
    return [f"  {rank:2d}. {c.status:8s} {c.kind:8s} {_name(c.item)}",
            f"      linked consortia: {c.linked_consortia}" + (f" ({detail})" if detail else "")
            + f"; best similarity: {best}"]


def render_plan_gaps(gaps: PlanGaps, top: int) -> str:
    kind = (KIND_NAMES.get(gaps.plan.kind, ("consortium",))[0] if gaps.source == "consortium"
            else "uploaded plan; clusters and themes suggested by the matcher")
    lines = [f"Blank spots of {_name(gaps.plan)} ({kind}); similarity threshold {gaps.threshold}",
             "Clusters: " + (", ".join(_name(c) for c in gaps.clusters) or "(none)"),
             "Themes: " + (", ".join(_name(t) for t in gaps.themes) or "(none)"),
             f"{gaps.candidates} knowledge questions in these clusters and themes: {len(gaps.addressed)} addressed, "
             f"{gaps.blank_total} not", "", "Not addressed, most relevant first:"]
    lines += [line for rank, g in enumerate(gaps.blank_spots[:top], 1) for line in _question(f"{rank:2d}.", g)] \
        or ["  (none)"]
    lines += ["", "Addressed:"]
    lines += [line for g in gaps.addressed for line in _question(" -", g)] or ["  (none)"]
    if gaps.plan.is_sample:
        lines += ["", "This plan is a sample consortium. " + SAMPLE_LINE]
    return "\n".join(lines)


def _question(mark: str, g: QuestionGap) -> list[str]:
    how = " (linked)" if g.is_linked else ""
    out = [f"  {mark} {g.similarity:.3f}{how}  {_name(g.question)}"]
    if g.shared:
        out.append("       in: " + ", ".join(s.label for s in g.shared))
    if g.passage:
        out.append(f"       closest passage: \"{textwrap.shorten(g.passage, 120, placeholder=' ...')}\"")
    return out


def render_overlaps(overlaps: Overlaps, top: int) -> str:
    lines = [f"Overlapping consortia: {_count(len(overlaps.pairs), 'pair')} with similarity >= {overlaps.threshold} "
             f"among {portfolio_text(overlaps.portfolio)}", "", "Pairs, most similar first:"]
    for rank, pair in enumerate(overlaps.pairs[:top], 1):
        lines.append(f"  {rank:2d}. {pair.similarity:.3f}  {_name(pair.first)}  <->  {_name(pair.second)}")
        if pair.shared_concepts:
            lines.append("       shared concepts: " + ", ".join(c.label for c in pair.shared_concepts))
        if pair.shared_links:
            lines.append("       shared links: " + "; ".join(f"{k.relation} {k.target.label}" for k in pair.shared_links))
    if not overlaps.pairs:
        lines.append("  (none)")
    lines += ["", "Groups (candidates to bring together):"]
    lines += [f"  - {len(g.members)} consortia, {_count(g.pairs, 'pair')}, best {g.best_similarity:.3f}: "
              + ", ".join(_name(m) for m in g.members) for g in overlaps.groups] or ["  (none)"]
    lines += _sample_lines(overlaps.portfolio, "Pairs and groups may include them.")
    return "\n".join(lines)


def render_calibration(calibrations: Calibrations, model: str, current: tuple[float, float]) -> str:
    lines = [f"Calibrated on the explicit links of {portfolio_text(calibrations.portfolio)}, model {model}:",
             _calibration("gap threshold", calibrations.gap),
             *(_calibration(f"  {c.name}s only", c) for c in calibrations.gap_by_kind),
             _calibration("overlap threshold", calibrations.overlap),
             f"Set them with MK_GAP_THRESHOLD and MK_OVERLAP_THRESHOLD (now {current[0]} and {current[1]})."]
    if calibrations.portfolio.samples:
        lines.append("The labels include the links of sample consortia (illustrative records, not real programmes or "
                     "projects); --no-samples leaves them out.")
    elif calibrations.portfolio.samples_left_out:
        lines.append("Samples left out (--no-samples): only the links of real consortia are labels.")
    return "\n".join(lines)


def _calibration(title: str, c: Calibration) -> str:
    return (f"  {title:20s} {c.threshold:.4f}  F1 {c.f1:.3f} (precision {c.precision:.3f}, recall {c.recall:.3f}; "
            f"{c.positives} labelled positive of {c.pairs} pairs)")
