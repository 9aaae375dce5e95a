"""Atomic publication: a store, an index or a file is written aside and goes live with one rename,
so a reader, a failed write or a killed process only ever leaves the old state or the whole new one.

A folder that readers use while it is replaced lives as versions behind a link: `path` is a
symbolic link to a sibling folder `<name>-<time>`, and a new version goes live when a new link is
renamed over it (`publish_version`). Old versions go later (`prune`), so a reader still busy with
one is not cut off. Contents are not synced to disk: a killed process loses nothing the kernel has
accepted, and syncing a whole store or model folder on every write would cost more than rebuilding
it after a power cut. A single file (`write_atomically`) is small and often hand-made, so it is
synced."""

from __future__ import annotations

import fcntl
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from kg.errors import KgError


class PublishFailed(KgError):
    """A new version, folder or file could not be written (a read-only or full disk, a missing
    folder); what was there before is unchanged."""

    def __init__(self, what: str, error: OSError) -> None:
        self.reason = error.strerror or str(error)
        super().__init__(f"cannot write {what}: {self.reason}")


def publish_version(path: Path, fill: Callable[[Path], object], *, keep: Iterable[str] = ()) -> Path:
    """Make a new version of the folder at `path` and return it: `fill` writes a new, empty sibling
    folder completely, then the link at `path` swaps to it with one rename. Anything failing before
    the swap removes the new folder and leaves `path` as it was; an OSError becomes PublishFailed.
    Afterwards older versions are pruned, except the one `path` named before (readers may still be
    on it) and those named in `keep`. A folder at `path` from before versions is replaced too."""
    version = path.with_name(f"{path.name}-{time.time_ns()}")
    with _failing_as(f"a new version next to {path}"):
        path.parent.mkdir(parents=True, exist_ok=True)
        version.mkdir()
        with _removed_on_failure(version), _locked(version):  # locked: another writer's prune leaves it alone
            fill(version)
            previous = _swap_link(path, version)
        prune(path, keep={version.name, previous, *keep})
    return version


def version_folders(path: Path) -> list[Path]:
    """The version folders of `path`, oldest first (their names end in the time they were made)."""
    def made(folder: Path) -> int:
        suffix = folder.name.rsplit("-", 1)[-1]
        return int(suffix) if suffix.isdigit() else 0

    return sorted((p for p in path.parent.glob(f"{path.name}-*") if p.is_dir() and not p.is_symlink()), key=made)


def prune(path: Path, keep: Iterable[str]) -> list[str]:
    """Remove the version folders of `path` except those named in `keep`, and return the names of
    those removed. A folder another writer is still filling is locked and left alone; one whose
    writer was killed is not, and goes here."""
    kept, removed = set(keep), []
    for old in version_folders(path):
        if old.name in kept:
            continue
        with suppress(OSError), _locked(old, wait=False) as is_free:  # OSError: another prune came first
            if is_free:
                shutil.rmtree(old, ignore_errors=True)
                removed.append(old.name)
    return removed


def publish_folder(path: Path, fill: Callable[[Path], object]) -> None:
    """Make the folder `path`, which must not exist yet: `fill` writes a hidden sibling, which is
    renamed to `path` once complete, so the folder appears whole or not at all. For folders that are
    added, never replaced (an edition's files); one that is replaced while read is a version."""
    staging = path.with_name(f".{path.name}.incoming-{os.getpid()}-{time.time_ns()}")
    with _failing_as(str(path)):
        path.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        with _removed_on_failure(staging):
            fill(staging)
            staging.rename(path)  # refused where `path` is a folder with something in it


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file at `path` with `data`: written to a hidden sibling, synced, then renamed over
    it, so a reader or a crash finds the old file or the new one, never part of either. The new file
    keeps the old one's permissions; an OSError becomes PublishFailed."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}-{time.time_ns()}.tmp")
    with _failing_as(str(path)):
        with _removed_on_failure(temporary):
            with open(temporary, "xb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            if path.exists():
                shutil.copymode(path, temporary)
            os.replace(temporary, path)
        with suppress(OSError):  # make the rename itself durable, where the folder can be synced
            handle = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(handle)
            finally:
                os.close(handle)


def _swap_link(path: Path, version: Path) -> str:
    """Point `path` at `version`: a new link made aside, then renamed over the old one. Returns the
    name of the version `path` pointed at before ("" if none)."""
    previous = path.resolve().name if path.is_symlink() else ""
    link = path.with_name(f".{version.name}.link")
    link.symlink_to(version.name)  # relative: the versions may move together with their parent
    with _removed_on_failure(link):
        if path.exists() and not path.is_symlink():  # a folder from before versions: pruned as an old one
            path.rename(path.with_name(f"{path.name}-legacy-{time.time_ns()}"))
        os.replace(link, path)
    return previous


@contextmanager
def locked_file(path: Path, refused: Callable[[OSError], Exception]) -> Iterator[None]:
    """An exclusive flock on the file at `path` (made if missing), held for the block: one writer at a time
    over every process of this host (the kernel drops it when the process dies). Where the file cannot
    be made, `refused(error)` is raised instead."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_WRONLY | os.O_CREAT, 0o666)
    except OSError as exc:
        raise refused(exc) from exc
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)


@contextmanager
def _failing_as(what: str) -> Iterator[None]:
    """An OSError in the block (a read-only or full disk) said plainly as PublishFailed."""
    try:
        yield
    except OSError as exc:
        raise PublishFailed(what, exc) from exc


@contextmanager
def _removed_on_failure(path: Path) -> Iterator[None]:
    """Whatever is at `path` goes if the block fails: half-written data never stays behind."""
    try:
        yield
    except BaseException:
        if path.is_symlink() or not path.is_dir():
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
        raise


@contextmanager
def _locked(folder: Path, *, wait: bool = True) -> Iterator[bool]:
    """An exclusive flock on the folder itself, held for the block (the kernel drops it when the
    process dies, so a killed writer's folder is free to prune). Yields whether it is held: without
    `wait`, False when another writer holds it."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
            is_held = True
        except BlockingIOError:
            is_held = False
        yield is_held
    finally:
        os.close(handle)
