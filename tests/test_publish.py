"""Atomic publication: a version, folder or file is there whole or not at all, whatever fails,
and a process killed with SIGKILL half-way leaves the old state readable."""

from __future__ import annotations

import fcntl
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from config import REPO_ROOT
from kg.errors import KgError
from kg.publish import PublishFailed, prune, publish_folder, publish_version, write_atomically


def writing(text: str) -> Callable[[Path], None]:
    """A fill that writes one file."""
    def fill(folder: Path) -> None:
        (folder / "content.txt").write_text(text)
    return fill


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def run_killed(script: str) -> None:
    """Run `script` in a fresh Python that kills itself with SIGKILL (no cleanup, no `finally`)."""
    prelude = "import os, signal\ndef die(*_): os.kill(os.getpid(), signal.SIGKILL)\n"
    done = subprocess.run([sys.executable, "-c", prelude + script], cwd=REPO_ROOT, capture_output=True, timeout=60,
                          check=False)
    assert done.returncode == -9, done.stderr.decode()[-2000:]


# --- publish_version -----------------------------------------------------------------------------

def test_a_version_goes_live_behind_the_link_and_the_previous_one_stays(tmp_path: Path) -> None:
    path = tmp_path / "index"
    first = publish_version(path, writing("one"))
    assert path.is_symlink() and path.resolve() == first and (path / "content.txt").read_text() == "one"
    second = publish_version(path, writing("two"))
    assert (path / "content.txt").read_text() == "two"
    assert entries(tmp_path) == sorted(["index", first.name, second.name])  # the previous stays for its readers
    third = publish_version(path, writing("three"))
    assert entries(tmp_path) == sorted(["index", second.name, third.name])


def test_keep_spares_a_version_a_reader_has_open(tmp_path: Path) -> None:
    path = tmp_path / "store"
    opened = publish_version(path, writing("one"))
    for text in ("two", "three"):
        newest = publish_version(path, writing(text), keep={opened.name})
    assert opened.name in entries(tmp_path) and newest.name in entries(tmp_path)


def test_a_fill_that_fails_leaves_no_folder_and_the_old_link(tmp_path: Path) -> None:
    path = tmp_path / "index"
    publish_version(path, writing("old"))
    before = entries(tmp_path), path.resolve()

    def half_then_fail(folder: Path) -> None:
        (folder / "content.txt").write_text("half")
        raise ValueError("the data is wrong")

    with pytest.raises(ValueError, match="the data is wrong"):  # not an OSError: raised as it was
        publish_version(path, half_then_fail)
    assert (entries(tmp_path), path.resolve()) == before
    assert (path / "content.txt").read_text() == "old"


def test_an_os_error_is_said_plainly_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "index"
    publish_version(path, writing("old"))
    before = entries(tmp_path)

    def disk_full(folder: Path) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(PublishFailed, match=f"cannot write a new version next to {path}: No space left on device") as caught:
        publish_version(path, disk_full)
    assert isinstance(caught.value, KgError) and caught.value.reason == "No space left on device"
    assert entries(tmp_path) == before and (path / "content.txt").read_text() == "old"


def test_a_path_below_a_file_cannot_be_published(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be")
    with pytest.raises(PublishFailed, match="cannot write a new version next to .*blocker/index"):
        publish_version(tmp_path / "blocker" / "index", writing("new"))


def test_a_folder_from_before_versions_is_replaced_by_the_link(tmp_path: Path) -> None:
    path = tmp_path / "model"
    path.mkdir()
    (path / "content.txt").write_text("legacy")
    version = publish_version(path, writing("new"))
    assert path.is_symlink() and (path / "content.txt").read_text() == "new"
    assert entries(tmp_path) == sorted(["model", version.name])


def test_a_fill_killed_midway_leaves_the_old_version_and_is_pruned_later(tmp_path: Path) -> None:
    path = tmp_path / "index"
    old = publish_version(path, writing("old"))
    run_killed(f"""
from pathlib import Path
from kg.publish import publish_version
def fill(folder):
    (folder / "content.txt").write_text("half")
    die()
publish_version(Path({str(path)!r}), fill)
""")
    assert (path / "content.txt").read_text() == "old"
    killed = set(entries(tmp_path)) - {"index", old.name}
    assert len(killed) == 1  # the killed writer's half-written version
    newest = publish_version(path, writing("new"))  # its lock died with it: pruned like any old version
    assert entries(tmp_path) == sorted(["index", old.name, newest.name])
    assert (path / "content.txt").read_text() == "new"


def test_a_kill_right_before_the_swap_leaves_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "store"
    publish_version(path, writing("old"))
    run_killed(f"""
import os
from pathlib import Path
from kg.publish import publish_version
os.replace = die
publish_version(Path({str(path)!r}), lambda folder: (folder / "content.txt").write_text("new"))
""")
    assert (path / "content.txt").read_text() == "old"


# --- prune ---------------------------------------------------------------------------------------

def test_prune_keeps_what_it_is_told_and_nothing_else_of_the_path(tmp_path: Path) -> None:
    path = tmp_path / "store"
    versions = [publish_version(path, writing(str(n))).name for n in range(3)]
    (tmp_path / "store-notes.txt").write_text("a file, not a version")
    (tmp_path / "other-1").mkdir()
    prune(path, keep={versions[1]})
    assert entries(tmp_path) == sorted(["store", versions[1], "store-notes.txt", "other-1"])
    assert path.is_symlink()  # the link itself is never removed (it now points at a pruned version)


def test_prune_leaves_a_folder_another_writer_is_filling(tmp_path: Path) -> None:
    path = tmp_path / "index"
    live = publish_version(path, writing("live"))
    filling = tmp_path / "index-99"
    filling.mkdir()
    handle = os.open(filling, os.O_RDONLY)  # how a writer holds its version while filling it
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        prune(path, keep={live.name})
        assert filling.is_dir()
    finally:
        os.close(handle)
    prune(path, keep={live.name})
    assert not filling.exists()


# --- publish_folder ------------------------------------------------------------------------------

def test_a_new_folder_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "editions" / "2025"
    publish_folder(target, writing("edition"))
    assert entries(tmp_path / "editions") == ["2025"] and (target / "content.txt").read_text() == "edition"

    def half_then_fail(folder: Path) -> None:
        (folder / "content.txt").write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        publish_folder(tmp_path / "editions" / "2026", half_then_fail)
    assert entries(tmp_path / "editions") == ["2025"]
    with pytest.raises(PublishFailed, match="2025"):  # an existing folder is not replaced
        publish_folder(target, writing("again"))
    assert entries(tmp_path / "editions") == ["2025"] and (target / "content.txt").read_text() == "edition"


# --- write_atomically ----------------------------------------------------------------------------

def test_a_file_is_replaced_and_keeps_its_permissions(tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"
    path.write_text("old")
    path.chmod(0o640)
    write_atomically(path, b"new")
    assert path.read_bytes() == b"new" and stat.S_IMODE(path.stat().st_mode) == 0o640
    assert entries(tmp_path) == ["people.yaml"]
    write_atomically(tmp_path / "fresh.txt", b"first")
    assert (tmp_path / "fresh.txt").read_bytes() == b"first"


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "people.yaml"
    path.write_text("old")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(PublishFailed, match=f"cannot write {path}: No space left on device"):
        write_atomically(path, b"new")
    assert entries(tmp_path) == ["people.yaml"] and path.read_text() == "old"


def test_a_write_killed_midway_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "people.yaml"
    path.write_bytes(b"old " * 100_000)
    run_killed(f"""
import os
from pathlib import Path
from kg.publish import write_atomically
os.fsync = die  # the new bytes are written, not yet renamed in
write_atomically(Path({str(path)!r}), b"new " * 200_000)
""")
    assert path.read_bytes() == b"old " * 100_000
