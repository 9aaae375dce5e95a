"""The sandbox (search.sandbox): an answer comes back from the child, and a child past its CPU time, memory or
wall-clock limit is stopped and reported as such. The work is done by standard-library functions (a child that
imported this module would import pytest too)."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable
from typing import Any

import pytest

from search.sandbox import SandboxFailed, WorkLimitExceeded, WorkLimits, run_limited

LIMITS = WorkLimits(cpu_s=10, memory_bytes=500_000_000, wall_s=60)
STOPPED_WITHIN_S = 30  # on a busy two-core machine; each case alone would run for minutes, or for ever


def test_the_answer_comes_back() -> None:
    assert run_limited(len, "waterstof", LIMITS) == 9
    assert run_limited(bytes, 3, LIMITS) == b"\x00\x00\x00"


def test_the_child_runs_under_the_limits() -> None:
    assert run_limited(resource.getrlimit, resource.RLIMIT_CPU, LIMITS) == (10, 11)
    assert run_limited(resource.getrlimit, resource.RLIMIT_AS, LIMITS) == (500_000_000, 500_000_000)
    assert run_limited(resource.getrlimit, resource.RLIMIT_CORE, LIMITS) == (0, 0)


def test_a_print_in_the_child_does_not_spoil_the_answer() -> None:
    assert run_limited(print, "ruis", LIMITS) is None


def test_an_exception_the_caller_expects_is_raised_here() -> None:
    with pytest.raises(ValueError, match="invalid literal for int"):
        run_limited(int, "twaalf", LIMITS, passes=(ValueError,))


def test_any_other_exception_is_a_failure_of_the_sandbox() -> None:
    with pytest.raises(SandboxFailed, match="exit code 1"):
        run_limited(int, "twaalf", LIMITS)


def stopped(function: Callable[[Any], object], argument: Any, limits: WorkLimits) -> tuple[WorkLimitExceeded, float]:
    started = time.perf_counter()
    with pytest.raises(WorkLimitExceeded) as raised:
        run_limited(function, argument, limits)
    return raised.value, time.perf_counter() - started


def test_a_busy_child_is_stopped_at_its_cpu_limit() -> None:
    error, seconds = stopped(sum, range(10**13), WorkLimits(cpu_s=1, memory_bytes=500_000_000, wall_s=60))
    assert error.limit == "cpu" and str(error) == "it took more than 1 s of processing time"
    assert seconds < STOPPED_WITHIN_S


def test_a_greedy_child_is_stopped_at_its_memory_limit() -> None:
    error, seconds = stopped(bytes, 2_000_000_000, WorkLimits(cpu_s=10, memory_bytes=200_000_000, wall_s=60))
    assert error.limit == "memory" and str(error) == "it needed more than 200 MB of memory"
    assert seconds < STOPPED_WITHIN_S


def test_a_stuck_child_is_killed_at_its_deadline() -> None:
    error, seconds = stopped(time.sleep, 600, WorkLimits(cpu_s=10, memory_bytes=500_000_000, wall_s=1))
    assert error.limit == "wall" and str(error) == "it took longer than 1 s"
    assert seconds < STOPPED_WITHIN_S
