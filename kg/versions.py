"""The history of the embedded store: what made each kept version (a build, a write, a rollback, an
import), when, by whom, and which journaled writes (kg.journal) it holds. Every version folder has
a small `version.json` written before the folder goes live."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kg.errors import StoreError
from kg.publish import version_folders

MANIFEST = "version.json"
KINDS = ("build", "write", "rollback", "import", "forget")


@dataclass(frozen=True)
class VersionInfo:
    """One store version, as its manifest describes it."""

    name: str
    kind: str  # build, write, rollback, import or forget ("" for a version from before manifests)
    created: str
    who: str = ""
    writes: tuple[int, ...] = ()  # the journaled writes this version holds
    changes: dict[str, tuple[int, int]] = field(default_factory=dict)  # a write's graphs: (added, removed)
    quads: int | None = None
    note: str = ""  # a rollback's source version, an import's file

    def to_json(self) -> bytes:
        data = asdict(self)
        data["changes"] = {g: list(c) for g, c in self.changes.items()}
        return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def write_manifest(folder: Path, info: VersionInfo) -> None:
    (folder / MANIFEST).write_bytes(info.to_json())


def read_manifest(folder: Path) -> VersionInfo:
    """The manifest of a version folder; a folder from before manifests gets an empty one."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return VersionInfo(folder.name, "", "")
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot read the description of store version {folder.name}: {exc}") from exc
    return VersionInfo(name=folder.name, kind=data.get("kind", ""), created=data.get("created", ""),
                       who=data.get("who", ""), writes=tuple(data.get("writes", ())),
                       changes={g: (int(c[0]), int(c[1])) for g, c in data.get("changes", {}).items()},
                       quads=data.get("quads"), note=data.get("note", ""))


def list_versions(path: Path, *, complete: str) -> list[VersionInfo]:
    """The kept versions of the store at `path`, oldest first: folders with the `complete` marker
    only (one still being written, or left by a killed writer, is not a version)."""
    return [read_manifest(folder) for folder in version_folders(path) if (folder / complete).exists()]


def find_version(path: Path, name: str, *, complete: str) -> Path:
    """The folder of version `name` (its full name, or the unique end of it, as `kg history` shows)."""
    kept = [v.name for v in list_versions(path, complete=complete)]
    matches = [v for v in kept if v == name] or [v for v in kept if name and v.endswith(name)]
    if len(matches) != 1:
        shown = ", ".join(kept[-5:]) or "none"
        problem = "matches several versions" if matches else "is not a kept version"
        raise StoreError(f"{name!r} {problem} of the store at {path}; kept versions (newest last): {shown}. "
                         "See: python -m kg history")
    return path.with_name(matches[0])
