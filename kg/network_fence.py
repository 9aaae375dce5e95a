"""A network fence for the processes that evaluate user SPARQL: they cannot open an IP socket.

pyoxigraph's SERVICE and LOAD make HTTP requests from inside the engine, below anything Python
can intercept. kg.sparql_text refuses them before evaluation; this fence is the second line, so a
mistake in reading a query is not enough for a request to leave the machine. A seccomp filter
(libseccomp through pyseccomp) makes socket(AF_INET / AF_INET6) fail with EACCES in the process
and every thread it starts later; local pipes and Unix sockets keep working."""

from __future__ import annotations

import errno
import socket

from kg.errors import StoreError


class FenceUnavailable(StoreError):
    """The fence could not be put up (no seccomp on this system, or libseccomp is missing)."""


def fence_network() -> None:
    """Forbid IPv4 and IPv6 sockets in this process from now on (it cannot be undone)."""
    try:
        import pyseccomp as seccomp

        fence = seccomp.SyscallFilter(seccomp.ALLOW)
        for family in (socket.AF_INET, socket.AF_INET6):
            fence.add_rule(seccomp.ERRNO(errno.EACCES), "socket", seccomp.Arg(0, seccomp.EQ, family))
        fence.load()
    except (ImportError, OSError, RuntimeError, ValueError) as exc:
        raise FenceUnavailable(
            f"cannot fence the query workers off the network ({exc}); install libseccomp2 (Debian: "
            "apt-get install libseccomp2), or set MK_OUTBOUND_ALLOW to run them unfenced") from exc


def is_fenced() -> bool:
    """Whether this process can no longer open an IP socket."""
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    except PermissionError:
        return True
    return False
