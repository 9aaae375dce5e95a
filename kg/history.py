"""What `python -m kg history` and `python -m kg writes` show: the kept store versions and the
journaled admin writes, as text a data steward reads; and the writes as one SPARQL Update file."""

from __future__ import annotations

from kg.journal import Write, describe_changes
from kg.versions import VersionInfo

_KIND_TEXT = {"build": "build from the data files", "write": "admin write", "rollback": "rollback",
              "import": "import of a dump", "forget": "person removed", "": "(made before the history was kept)"}
_ENDED_TEXT = {"": "replayed", "revert": "reverted", "drop": "dropped", "abandon": "abandoned"}


def format_versions(versions: list[VersionInfo], current: str) -> str:
    """One line per kept version, newest first: its name, when, what made it, who, what it changed."""
    if not versions:
        return "no store versions yet; build one with: python -m kg build"
    lines = [f"{len(versions)} kept store version(s), newest first ('*': current). Go back with: "
             "python -m kg rollback VERSION"]
    for info in reversed(versions):
        mark = "*" if info.name == current else " "
        what = _KIND_TEXT.get(info.kind, info.kind)
        if info.kind == "rollback":
            what += f" to {info.note}"
        elif info.note:
            what += f" ({info.note})"
        who = f" by {info.who}" if info.who else ""
        changed = f": {describe_changes(info.changes)}" if info.kind == "write" else ""
        size = f", {info.quads} quads" if info.quads is not None else ""
        lines.append(f"{mark} {info.name}  {info.created[:19] or '?':<19}  {what}{who}{changed}{size}; "
                     f"holds {len(info.writes)} journaled write(s)")
    return "\n".join(lines)


def format_writes(writes: list[Write]) -> str:
    """One line per journaled write, oldest first, with what became of it."""
    if not writes:
        return "no admin writes journaled"
    active = sum(1 for w in writes if w.is_active)
    lines = [f"{len(writes)} journaled write(s), {active} replayed by every build:"]
    for w in writes:
        state = _ENDED_TEXT.get(w.ended, w.ended)
        lines.append(f"  #{w.seq:<4} {w.time[:19]}  {w.who or '?':<16} {state:<10} {w.summary()}")
    return "\n".join(lines)


def format_write(write: Write) -> str:
    """Everything the journal keeps of one write."""
    state = "replayed by every build" if write.is_active else f"{write.ended}: {write.ended_why}"
    return "\n".join([f"write #{write.seq}", f"time:       {write.time}", f"who:        {write.who or '?'}",
                      f"state:      {state}", f"visibility: {write.visibility or 'not given (new graphs internal)'}",
                      f"version:    {write.version}", f"changed:    {write.summary()}", "update:", write.sparql])


def writes_as_update(writes: list[Write]) -> str:
    """The writes as one SPARQL Update request, in order, each with a comment saying whose it was;
    it can be run on another store (python -m kg update FILE, or POST /sparql)."""
    parts = []
    for w in writes:
        base = f"BASE <{w.base_iri}>\n" if w.base_iri else ""
        parts.append(f"# write #{w.seq}, {w.time}, by {w.who or '?'}: {w.summary()}\n{base}{w.sparql.strip()}")
    return " ;\n\n".join(parts) + "\n"
