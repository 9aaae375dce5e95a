"""A match result as readable text for the terminal."""

from __future__ import annotations

import textwrap

from search.result import NO_STRONG_MATCH_NOTE, Hit, MatchResult, Suggestion

TITLES = (("questions", "Knowledge questions"), ("programmes", "Programmes and projects (consortia)"),
          ("missions", "Missions and MMIPs"), ("kem_categories", "KEM categories"))


def render_match(result: MatchResult) -> str:
    lines = [f"Proposal language: {result.language}"]
    if result.no_strong_match:
        lines.append(NO_STRONG_MATCH_NOTE["en"])
    if result.concepts:
        lines.append("Concepts mentioned: " + ", ".join(c.label for c in result.concepts))
    for field, title in TITLES:
        hits: tuple[Hit, ...] = getattr(result, field)
        lines += ["", title]
        lines += [line for rank, hit in enumerate(hits, 1) for line in _hit(rank, hit)] or ["  (none)"]
    for title, suggestions in (("Suggested clusters", result.clusters), ("Suggested themes", result.themes)):
        lines += ["", title + ": " + (", ".join(_suggestion(s) for s in suggestions) or "(none)")]
    lines += ["", "[strong] / [fair] / [weak]: how well a hit matches (its corrected similarity against thresholds "
                  "calibrated on labelled proposals; docs/search.md)."]
    if result.has_samples:
        lines += ["", "[sample] marks illustrative records, not real programmes or organisations."]
    elif result.samples == "exclude":
        lines += ["", "Sample records (illustrative, not real) were left out."]
    return "\n".join(lines)


def _hit(rank: int, hit: Hit) -> list[str]:
    sample = " [sample]" if hit.is_sample else ""
    kind = f" [{hit.kind}]" if hit.kind in ("programme", "project") else ""
    corrected = "" if hit.strength_score is None else f", corrected similarity {hit.strength_score:.3f}"
    out = [f"  {rank}. {hit.label}{kind}{sample}  [{hit.strength}]  (score {hit.score:.4f}{corrected})"]
    if hit.funding:
        funded = [v for v in (hit.funding.instrument, hit.funding.call, hit.funding.year) if v is not None]
        out.append(f"     funding: {', '.join(str(v) for v in funded)}")
    lead = [m for m in hit.members if m.role == "lead"]
    partners = [m for m in hit.members if m.role == "partner"]
    if lead:
        out.append(f"     lead: {', '.join(m.label for m in lead)}")
    if partners:
        out.append(f"     partners: {', '.join(m.label for m in partners)}")
    why = hit.explanation
    if why.shared_concepts:
        out.append("     shared concepts: " + ", ".join(c.label + " (by meaning)" * c.by_meaning for c in why.shared_concepts))
    if why.passage:
        passage = textwrap.shorten(why.passage, 140, placeholder=" ...")
        out.append(f"     best passage ({why.passage_similarity:.2f}): \"{passage}\"")
    out.append(f"     dense {_score(why.dense_score, why.dense_rank)}, lexical {_score(why.lexical_score, why.lexical_rank)}")
    return out


def _score(score: float | None, rank: int | None) -> str:
    return "-" if score is None else f"{score:.3f} (#{rank})"


def _suggestion(s: Suggestion) -> str:
    return f"{s.label} {s.score:.0%}"
