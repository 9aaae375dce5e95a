"""How strong a hit is: a label a researcher can read instead of a raw score.

Every hit of a match gets its hubness-corrected similarity (search.hubness: the cosine to the proposal
minus the record's mean cosine to typical proposals) and a label from two thresholds:

    strong  corrected >= strong, or the best of its section and >= fair
    fair    corrected >= fair    worth a look
    weak    below                the nearest records, not a match

The thresholds are calibrated on the tuning part of tests/fixtures/eval/proposals.yaml by
bench/eval_search.py: `strong` is the lowest score from which at least STRONG_PRECISION of the tuning
hits are labelled relevant, `fair` the lowest from which at least FAIR_PRECISION are (in steps of 0.005,
with the penalties of the tuning proposals computed without the proposal itself); the bench also checks
that the best hits of a section above `fair` reach STRONG_PRECISION (a record that clearly beats the rest
of its section and the noise is as often right as one above `strong`). Their defaults are the settings
MK_STRONG_THRESHOLD and MK_FAIR_THRESHOLD (config.py); the precision each label reaches on the held-out
part is in docs/search.md. So an answer has a strong hit exactly when some hit reaches `fair`: when none
does, nothing matches well and the answer says so (no_strong_match).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LABELS = ("strong", "fair", "weak")
STRONG_PRECISION = 0.5  # the calibration's targets (bench/eval_search.py)
FAIR_PRECISION = 0.25
STEP = 0.005


@dataclass(frozen=True)
class StrengthThresholds:
    """The corrected similarity from which a hit is strong, and from which it is fair."""

    strong: float = 0.045
    fair: float = 0.03

    def __post_init__(self) -> None:
        if self.fair > self.strong:
            raise ValueError(f"the fair threshold ({self.fair}) is above the strong one ({self.strong})")

    def label(self, score: float | None, best: bool = False) -> str:
        """strong, fair or weak; weak without a score. `best`: the hit is the strongest of its section."""
        if score is None or score < self.fair:
            return "weak"
        return "strong" if score >= self.strong or best else "fair"


def no_strong_match(labels: Iterable[str]) -> bool:
    """True when no hit is strong: the answer then says so plainly."""
    return "strong" not in set(labels)


def calibrate(scored: Sequence[tuple[float, bool]], target: float, step: float = STEP) -> float | None:
    """The lowest threshold, a multiple of `step`, from which at least `target` of the (score, relevant)
    pairs scoring at or above it are relevant, with at least 5 of them; None where none reaches it."""
    if not scored:
        return None
    lowest = math.floor(min(score for score, _ in scored) / step)
    highest = math.ceil(max(score for score, _ in scored) / step)
    for k in range(lowest, highest + 1):
        threshold = round(k * step, 6)
        above = [relevant for score, relevant in scored if score >= threshold]
        if len(above) >= 5 and sum(above) / len(above) >= target:
            return threshold
    return None
