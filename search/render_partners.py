"""Partner suggestions as readable text for the terminal."""

from __future__ import annotations

from search.partners import PartnersResult, PartnerSuggestion
from search.result import NO_STRONG_MATCH_NOTE


def render_partners(result: PartnersResult) -> str:
    team = result.consortium
    lines = [f"Proposal language: {result.language}",
             "Consortium: " + (", ".join(_marked(m.label, m.is_sample) for m in team.members) or "(none given)")]
    if team.members:
        lines.append(f"  kinds: {', '.join(team.kinds)}; clusters: {', '.join(c.label for c in team.clusters) or '-'}; "
                     f"missions: {', '.join(m.label for m in team.missions) or '-'}")
    if result.no_strong_match:
        lines.append(NO_STRONG_MATCH_NOTE["en"])
    lines += ["", "Suggested partners"]
    lines += [line for rank, s in enumerate(result.suggestions, 1) for line in _suggestion(rank, s)] or ["  (none)"]
    lines += ["", "[strong] / [fair] / [weak]: how well the organisation's best project fits (docs/partners.md); "
                  "score = fit + what it adds to the consortium."]
    if any(s.is_sample or any(p.consortium.is_sample for p in s.projects) for s in result.suggestions):
        lines += ["", "[sample] marks illustrative records, not real organisations or projects."]
    elif result.samples == "exclude":
        lines += ["", "Sample records (illustrative, not real) were left out."]
    return "\n".join(lines)


def _suggestion(rank: int, s: PartnerSuggestion) -> list[str]:
    out = [f"  {rank}. {_marked(s.label, s.is_sample)} ({s.kind})  [{s.strength}]  "
           f"(score {s.score:.4f}: fit {s.fit:.4f} + {s.bonus:.4f})"]
    for support in s.projects:
        c = support.consortium
        out.append(f"     {support.role} of {_marked(c.label, c.is_sample)} [{c.kind}] ({support.similarity:.3f})  {c.iri}")
    adds = [*(f"cluster {r.label}" for r in s.adds_clusters), *(f"mission {r.label}" for r in s.adds_missions)]
    if s.adds_kind:
        adds.append(f"a {s.kind.replace('_', ' ')}")
    if adds:
        out.append(f"     adds: {'; '.join(adds)}")
    for worked in s.worked_with:
        out.append(f"     worked with {worked.member.label} on {', '.join(c.label for c in worked.consortia)}")
    return out


def _marked(label: str, is_sample: bool) -> str:
    return label + " [sample]" * is_sample
