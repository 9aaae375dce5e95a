"""Replaying journaled writes (kg.journal) on top of a dataset freshly built from the data files, so
that a rebuild keeps every admin write, and says which ones no longer change anything or no longer
apply at all."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyoxigraph as ox

from kg.delta import apply_write
from kg.errors import KgError
from kg.journal import Write


@dataclass(frozen=True)
class Replayed:
    """The dataset with the writes applied, and what each write did this time."""

    quads: list[ox.Quad]
    applied: tuple[tuple[Write, dict[str, tuple[int, int]]], ...]

    @property
    def unchanged(self) -> tuple[Write, ...]:
        """Writes that changed nothing this time: what they add is in the data files already, or what
        they delete is gone. Worth dropping once the data files say what they said."""
        return tuple(write for write, changes in self.applied if not changes)


class WritesNoLongerApply(KgError):
    """Journaled writes fail on the rebuilt data: the build stops and keeps the store as it was."""

    def __init__(self, failed: list[tuple[Write, str]]) -> None:
        self.failed = failed
        lines = [f"  #{w.seq} ({w.time[:19]}, {w.who or 'unknown'}): {error}" for w, error in failed]
        super().__init__(
            f"{len(failed)} journaled write(s) no longer apply to the data files, so the build stopped and the store "
            "is unchanged:\n" + "\n".join(lines) + "\nSee a write with: python -m kg writes show N. Keep them all as a "
            "SPARQL Update file with: python -m kg writes export -o writes.ru. Once the data files hold what they "
            "meant (or to give them up), drop them with: python -m kg writes drop "
            + " ".join(str(w.seq) for w, _ in failed))


def replay(quads: Iterable[ox.Quad], writes: list[Write]) -> Replayed:
    """Apply the writes in order to the dataset `quads`. Every write that fails is reported together
    (WritesNoLongerApply), so that one build shows all there is to decide."""
    dataset = ox.Store()
    dataset.bulk_extend(quads)
    applied: list[tuple[Write, dict[str, tuple[int, int]]]] = []
    failed: list[tuple[Write, str]] = []
    for write in writes:
        try:
            changes = apply_write(dataset, write.sparql, write.base_iri, write.visibility)
        except KgError as exc:
            failed.append((write, str(exc)))
            continue
        applied.append((write, changes.counts()))
    if failed:
        raise WritesNoLongerApply(failed)
    return Replayed(list(dataset.quads_for_pattern(None, None, None, None)), tuple(applied))
