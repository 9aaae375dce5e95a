"""The write journal: every admin write to the embedded store, appended to one JSON-lines file that
lives beside the store and outlives it, so that a rebuild from the data files replays the writes
instead of losing them (kg.replay).

The file is only ever appended to, with one exception: removing a person (kg.forget) blanks the
text of the writes that mention them (`erase`), rewriting the file atomically. A write is a
`write` event; what later happens to it is another event naming its number: `revert` (a rollback
went back before it), `drop` (an admin asked for it to be forgotten), `abandon` (the process
stopped after the event was written but before the write went live: the store never had it);
`restore` undoes a revert (a rollback went forward again). Each event is one line, written and
synced before the store version it belongs to goes live."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kg.errors import KgError, StoreError
from kg.publish import write_atomically

ENDED = ("revert", "drop", "abandon")  # the events that end a write's life


@dataclass(frozen=True)
class Write:
    """One admin write as the journal keeps it: enough to replay it, and to say who did what."""

    seq: int
    time: str
    who: str
    sparql: str
    base_iri: str | None = None
    visibility: str | None = None  # asked for the graphs the write creates (None: internal, unchanged)
    changes: dict[str, tuple[int, int]] = field(default_factory=dict)  # graph -> (quads added, removed)
    version: str = ""  # the store version it made
    ended: str = ""  # revert, drop or abandon: no longer replayed
    ended_why: str = ""

    @property
    def is_active(self) -> bool:
        return not self.ended

    def summary(self) -> str:
        return describe_changes(self.changes)


def describe_changes(changes: dict[str, tuple[int, int]]) -> str:
    """What a write changed, in one line: its graphs (short names), with quads added and removed."""
    if not changes:
        return "no quads changed"
    return ", ".join(f"{_short(g)} +{a} -{r}" for g, (a, r) in sorted(changes.items()))


def _short(graph: str) -> str:
    return "(default graph)" if not graph else graph.rsplit("/graph/", 1)[-1] if "/graph/" in graph else graph


def _line(event: dict[str, Any]) -> str:
    """One journal event as one line of JSON."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n"


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Journal:
    """The journal file at `path` (made on the first write). Callers hold the store's write lock
    while they append, so sequence numbers never collide."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def writes(self) -> list[Write]:
        """Every write ever journaled, in order, with how it ended (if it did)."""
        writes: dict[int, Write] = {}
        for event in self._events():
            kind = event.get("event")
            if kind == "write":
                writes[event["seq"]] = Write(
                    seq=event["seq"], time=event["time"], who=event.get("who", ""), sparql=event["sparql"],
                    base_iri=event.get("base_iri"), visibility=event.get("visibility"),
                    changes={g: (int(c[0]), int(c[1])) for g, c in event.get("changes", {}).items()},
                    version=event.get("version", ""))
            elif kind in ENDED:
                for seq in event.get("seqs", ()):
                    if seq in writes and writes[seq].is_active:
                        writes[seq] = replace(writes[seq], ended=kind, ended_why=event.get("why", ""))
            elif kind == "restore":
                for seq in event.get("seqs", ()):
                    if seq in writes and writes[seq].ended == "revert":
                        writes[seq] = replace(writes[seq], ended="", ended_why="")
        return [writes[seq] for seq in sorted(writes)]

    def active(self) -> list[Write]:
        """The writes a build replays, in order."""
        return [w for w in self.writes() if w.is_active]

    def next_seq(self) -> int:
        return max((w.seq for w in self.writes()), default=0) + 1

    def append_write(self, write: Write) -> None:
        self._append({"event": "write", "seq": write.seq, "time": write.time, "who": write.who,
                      "sparql": write.sparql, "base_iri": write.base_iri, "visibility": write.visibility,
                      "changes": {g: list(c) for g, c in write.changes.items()}, "version": write.version})

    def end(self, kind: str, seqs: Iterable[int], why: str) -> None:
        """Record that these writes are no longer replayed (kind: revert, drop or abandon)."""
        if kind not in ENDED:
            raise ValueError(f"unknown journal event {kind!r}")
        numbers = sorted(set(seqs))
        if numbers:
            self._append({"event": kind, "seqs": numbers, "time": now(), "why": why})

    def restore(self, seqs: Iterable[int], why: str) -> None:
        """Replay these reverted writes again (a rollback went back to a version that holds them)."""
        numbers = sorted(set(seqs))
        if numbers:
            self._append({"event": "restore", "seqs": numbers, "time": now(), "why": why})

    def mentioning(self, values: Iterable[str]) -> list[int]:
        """The writes whose update text holds any of `values` (a person's URI, name, e-mail...)."""
        needles = [v for v in values if v]
        return [w.seq for w in self.writes() if any(n in w.sparql for n in needles)]

    def erase(self, seqs: Iterable[int], why: str) -> None:
        """Data rights: blank the update text of these writes and end them with a `drop`, rewriting
        the whole file atomically (a reader or a crash finds the old journal or the new one). What
        they changed and who made them stay, so the history still adds up."""
        numbers = set(seqs)
        if not numbers:
            return
        lines = []
        for event in self._events():
            if event.get("event") == "write" and event.get("seq") in numbers:
                event = {**event, "sparql": "", "erased": why}
            lines.append(_line(event))
        lines.append(_line({"event": "drop", "seqs": sorted(numbers), "time": now(), "why": why}))
        try:
            write_atomically(self.path, "".join(lines).encode("utf-8"))
        except KgError as exc:
            raise StoreError(f"cannot rewrite the write journal {self.path}: {exc}") from exc

    def _events(self) -> Iterator[dict[str, Any]]:
        try:
            with open(self.path, encoding="utf-8") as lines:
                for number, line in enumerate(lines, 1):
                    if not line.strip():
                        continue
                    try:
                        yield json.loads(line)
                    except json.JSONDecodeError:
                        if line.endswith("\n"):
                            raise StoreError(f"{self.path}, line {number}: not a journal event; the journal was edited "
                                             "by hand or damaged") from None
                        return  # a last line cut short by a crash: its write never went live
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StoreError(f"cannot read the write journal {self.path}: {exc.strerror or exc}") from exc

    def _append(self, event: dict[str, Any]) -> None:
        line = _line(event)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._repair_cut_line()
            descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(descriptor, line.encode("utf-8"))
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
        except OSError as exc:
            raise StoreError(f"cannot append to the write journal {self.path}: {exc.strerror or exc}") from exc

    def _repair_cut_line(self) -> None:
        """A last line cut short by a crash (its write never went live) is cut off, as a database log
        drops a torn tail, so that the next event starts on a line of its own."""
        try:
            with open(self.path, "rb") as existing:
                if existing.seek(0, os.SEEK_END) == 0:
                    return
                existing.seek(-1, os.SEEK_END)
                if existing.read(1) == b"\n":
                    return
                existing.seek(0)
                data = existing.read()
        except FileNotFoundError:
            return
        os.truncate(self.path, data.rfind(b"\n") + 1)
