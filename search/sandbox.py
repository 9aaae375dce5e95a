"""Running one parse of an untrusted file in a child process, under limits of CPU time, memory and wall-clock time.

Limits on bytes do not bound a parser's work: a 71 kB .docx of eight million empty paragraphs fits under any sensible
byte limit and still costs minutes of CPU and gigabytes of memory. Limits on the process do, whatever the parser and
whatever the trick, and killing a child really stops the work (a thread cannot be stopped).
"""

from __future__ import annotations

import os
import pickle
import resource
import signal
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

A = TypeVar("A")
T = TypeVar("T")


@dataclass(frozen=True)
class WorkLimits:
    """What one sandboxed call may use; the child's start (about 0.1 s of CPU, with a parser's imports) counts too."""

    cpu_s: int  # CPU seconds (RLIMIT_CPU): SIGXCPU at this many, SIGKILL one second later
    memory_bytes: int  # address space (RLIMIT_AS): an allocation past it raises MemoryError in the child
    wall_s: float  # seconds from the start until the answer, after which the child is killed (a busy server)


class WorkLimitExceeded(Exception):
    """The call was stopped at one of its limits; `limit` is "cpu", "memory" or "wall"."""

    def __init__(self, limit: str, limits: WorkLimits) -> None:
        self.limit = limit
        self.limits = limits
        super().__init__({"cpu": f"it took more than {limits.cpu_s} s of processing time",
                          "memory": f"it needed more than {limits.memory_bytes / 1_000_000:,.0f} MB of memory",
                          "wall": f"it took longer than {limits.wall_s:g} s"}[limit])


class SandboxFailed(RuntimeError):
    """The child ended without an answer and not at a limit (a crash, a bug): a fault on our side, its traceback is on
    the server's standard error."""


def run_limited(function: Callable[[A], T], argument: A, limits: WorkLimits,
                passes: tuple[type[Exception], ...] = ()) -> T:
    """`function(argument)` run in a fresh child process under `limits`. An exception of a type in `passes` is raised
    here as the child raised it; any other ends the child and raises SandboxFailed. `function` must be a module-level
    function of an importable module; it, `argument` and the result must pickle."""
    job = pickle.dumps((function, argument, limits, passes))
    # A fresh interpreter, not multiprocessing: a threaded server must not fork, and multiprocessing's spawn would run
    # the parent's main script again. -P: the working directory is not on the child's import path.
    with subprocess.Popen([sys.executable, "-P", "-m", "search.sandbox"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          env=_child_environment()) as child:
        try:
            output, _ = child.communicate(job, timeout=limits.wall_s)
        except subprocess.TimeoutExpired:
            child.kill()
            child.communicate()
            raise WorkLimitExceeded("wall", limits) from None
    if child.returncode == -signal.SIGXCPU:
        raise WorkLimitExceeded("cpu", limits)
    if child.returncode != 0:
        raise SandboxFailed(f"the child process ended without an answer (exit code {child.returncode})")
    kind, value = pickle.loads(output)
    if kind == "memory":
        raise WorkLimitExceeded("memory", limits)
    if kind == "raised":
        raise value
    return value


def _child_environment() -> dict[str, str]:
    """The parent's environment, with the folder that holds this package first on the child's import path."""
    root = str(Path(__file__).resolve().parents[1])
    inherited = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, inherited]) if inherited else root}


def _serve() -> None:
    """The child: the job from standard input, the limits lowered, the answer pickled to standard output."""
    answer_to = sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print() in a parser must not corrupt the answer
    function, argument, limits, passes = pickle.load(sys.stdin.buffer)
    _restrict(limits)
    try:
        answer = pickle.dumps(("ok", function(argument)))
    except MemoryError:
        answer = pickle.dumps(("memory", None))
    except passes as exc:
        answer = pickle.dumps(("raised", exc))
    answer_to.write(answer)
    answer_to.flush()


def _restrict(limits: WorkLimits) -> None:
    """Lower this process's limits for good (soft and hard, so the parser cannot raise them again)."""
    _lower(resource.RLIMIT_CORE, 0, 0)  # SIGXCPU would otherwise leave a core file behind
    _lower(resource.RLIMIT_CPU, limits.cpu_s, limits.cpu_s + 1)
    _lower(resource.RLIMIT_AS, limits.memory_bytes, limits.memory_bytes)


def _lower(kind: int, soft: int, hard: int) -> None:
    _, current = resource.getrlimit(kind)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(kind, (soft, hard))


if __name__ == "__main__":
    _serve()
