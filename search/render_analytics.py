"""Kernteam analytics as readable text for the terminal: blank spots, plan gaps, overlaps, calibration."""

from __future__ import annotations

import textwrap

from search.calibration import Calibrations
from search.gaps import Coverage, MissionGaps
from search.overlaps import Overlaps
from search.plan_gaps import PlanGaps, QuestionGap
from search.portfolio import Ref
from search.similarity import Calibration

SAMPLE_LINE = "[sample] marks illustrative records (sample MJPs), not real programmes."
STATUS_TEXT = {"blank": "no linked MJP and no MJP text reaches the threshold",
               "unlinked": "no linked MJP, but an MJP text reaches the threshold",
               "weak": "linked MJPs, but no MJP text reaches the threshold",
               "covered": "linked, and an MJP text reaches the threshold"}
KIND_NAMES = {"mission": "mission", "mmip": "MMIP", "question": "mission question"}


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _name(ref: Ref) -> str:
    return ref.label + (" [sample]" if ref.is_sample else "")


def _portfolio(mjps: int, samples: int) -> str:
    return f"{mjps} MJPs ({samples} of them samples)" if samples else f"{mjps} MJPs"


def render_gaps(gaps: MissionGaps, top: int) -> str:
    counts = gaps.counts()
    kinds = ", ".join(_count(sum(c.kind == k for c in gaps.items), name) for k, name in KIND_NAMES.items())
    lines = [f"Mission blank spots: {kinds} against {_portfolio(gaps.mjps, gaps.sample_mjps)}; "
             f"similarity threshold {gaps.threshold}",
             *(f"  {counts[s]:4d} {s:9s} {text}" for s, text in STATUS_TEXT.items()), "",
             "Ranked: fewest linked MJPs first, then lowest best similarity"]
    shown = [c for c in gaps.items if c.status != "covered"][:top]
    lines += [line for rank, c in enumerate(shown, 1) for line in _coverage(rank, c)] or ["  (none)"]
    if gaps.has_samples:
        lines += ["", SAMPLE_LINE + " The linked counts include samples where it says so."]
    return "\n".join(lines)


def _coverage(rank: int, c: Coverage) -> list[str]:
    samples = f" ({c.linked_samples} samples)" if c.linked_samples else ""
    best = f"{c.best_similarity:.3f}, {_name(c.best_mjp)}" if c.best_mjp else "-"
    return [f"  {rank:2d}. {c.status:8s} {c.kind:8s} {_name(c.item)}",
            f"      linked MJPs: {c.linked_mjps}{samples}; best similarity: {best}"]


def render_plan_gaps(gaps: PlanGaps, top: int) -> str:
    kind = "MJP" if gaps.source == "mjp" else "uploaded plan; clusters and themes suggested by the matcher"
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
        lines += ["", "This plan is a sample MJP. " + SAMPLE_LINE]
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
    lines = [f"Overlapping MJPs: {_count(len(overlaps.pairs), 'pair')} with similarity >= {overlaps.threshold} among "
             f"{_portfolio(overlaps.mjps, overlaps.sample_mjps)}", "", "Pairs, most similar first:"]
    for rank, pair in enumerate(overlaps.pairs[:top], 1):
        lines.append(f"  {rank:2d}. {pair.similarity:.3f}  {_name(pair.first)}  <->  {_name(pair.second)}")
        if pair.shared_concepts:
            lines.append("       shared concepts: " + ", ".join(c.label for c in pair.shared_concepts))
        if pair.shared_links:
            lines.append("       shared links: " + "; ".join(f"{k.relation} {k.target.label}" for k in pair.shared_links))
    if not overlaps.pairs:
        lines.append("  (none)")
    lines += ["", "Groups (candidates to bring together):"]
    lines += [f"  - {len(g.members)} MJPs, {_count(g.pairs, 'pair')}, best {g.best_similarity:.3f}: "
              + ", ".join(_name(m) for m in g.members) for g in overlaps.groups] or ["  (none)"]
    if overlaps.has_samples:
        lines += ["", SAMPLE_LINE]
    return "\n".join(lines)


def render_calibration(calibrations: Calibrations, model: str, current: tuple[float, float]) -> str:
    lines = [f"Calibrated on the explicit links of {_portfolio(calibrations.mjps, calibrations.sample_mjps)}, "
             f"model {model}:",
             _calibration("gap threshold", calibrations.gap),
             *(_calibration(f"  {c.name}s only", c) for c in calibrations.gap_by_kind),
             _calibration("overlap threshold", calibrations.overlap),
             f"Set them with MK_GAP_THRESHOLD and MK_OVERLAP_THRESHOLD (now {current[0]} and {current[1]})."]
    if calibrations.sample_mjps:
        lines.append("The labels include the links of sample MJPs (illustrative records, not real programmes).")
    return "\n".join(lines)


def _calibration(title: str, c: Calibration) -> str:
    return (f"  {title:20s} {c.threshold:.4f}  F1 {c.f1:.3f} (precision {c.precision:.3f}, recall {c.recall:.3f}; "
            f"{c.positives} labelled positive of {c.pairs} pairs)")
