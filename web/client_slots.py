"""A cap on the SPARQL queries one anonymous client has running at once, over every server process.

Each client (its address, after web.app's proxy handling) hashes to one of a fixed number of
buckets; a bucket has `per_client` slot files, and a running query holds an exclusive lock on one
of them (fcntl.flock: shared by all gunicorn workers, released by the kernel if a process dies).
No free slot: the query is refused at once with 429, so one client's slow queries cannot take
every query worker from everyone else."""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from web.errors import TooManyQueries

BUCKETS = 1024  # distinct clients sharing a bucket share its slots (rare; bounded files on disk)


class ClientSlots:
    def __init__(self, folder: Path, per_client: int) -> None:
        self.folder, self.per_client = folder, per_client
        self._made = False

    @contextmanager
    def hold(self, client: str) -> Iterator[None]:
        """Hold one of the client's slots while the block runs; TooManyQueries if none is free."""
        bucket = int.from_bytes(hashlib.blake2b(client.encode(), digest_size=4).digest(), "big") % BUCKETS
        if not self._made:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._made = True
        for slot in range(self.per_client):
            fd = os.open(self.folder / f"{bucket:04d}-{slot}", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            try:
                yield
            finally:
                os.close(fd)  # closing the descriptor releases the lock
            return
        raise TooManyQueries(f"this client already has {self.per_client} SPARQL queries running; wait for one to "
                             "finish (the limit is per client address)")
