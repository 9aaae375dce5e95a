"""The shared-store mode's servers for tests (kg.shared, docs/deploy.md): four SPARQL servers on
loopback (the public and the internal view, slot 0 and slot 1 each), `oxigraph serve` or Virtuoso."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from config import Settings, load_settings
from tests.conftest import free_port, running_virtuoso, stop_server, wait_until_ready

SLOTS = ("public-0", "public-1", "internal-0", "internal-1")


@contextmanager
def shared_servers(folder: Path, *, kind: str = "oxigraph", timeout_s: int = 30) -> Iterator[dict[str, str]]:
    """Start the four servers (`kind`: oxigraph or virtuoso; each stopped on the way out, also when a
    later one fails to start); yields the MK_* variables of a replica or publisher that uses them, with
    `folder/shared` as the shared folder and no grace period (tests publish one version after another)."""
    if kind == "virtuoso":
        with ExitStack() as servers:
            urls = []
            for name in SLOTS:
                (folder / name).mkdir()
                urls.append(f"{servers.enter_context(running_virtuoso(folder / name))}/sparql")
            yield _env(folder, urls)
        return
    binary = Path(sys.executable).with_name("oxigraph")
    procs: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for name in SLOTS:
            port, log = free_port(), folder / f"{name}.log"
            with open(log, "wb") as out:
                procs.append(subprocess.Popen(
                    [str(binary), "serve", "--location", str(folder / name), "--bind", f"127.0.0.1:{port}",
                     "--timeout-s", str(timeout_s)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True))
            urls.append(f"http://127.0.0.1:{port}")
            wait_until_ready(procs[-1], f"{urls[-1]}/query", log)
        yield _env(folder, urls)
    finally:
        for proc in procs:
            stop_server(proc)


def _env(folder: Path, urls: list[str]) -> dict[str, str]:
    return {"MK_STORE": "shared", "MK_SHARED_PATH": str(folder / "shared"), "MK_SHARED_GRACE_S": "0",
            "MK_SHARED_PUBLIC_URLS": " ".join(urls[:2]), "MK_SHARED_INTERNAL_URLS": " ".join(urls[2:]),
            "MK_INDEX_PATH": str(folder / "shared" / "index")}


def shared_settings(env: dict[str, str], **more: str) -> Settings:
    """The settings a process started with `env` (and `more`) reads."""
    return load_settings({**env, **more})


def shared_env(settings: Settings) -> dict[str, str]:
    """The MK_* variables of a replica of the shared store `settings` name."""
    return {"MK_STORE": "shared", "MK_SHARED_PATH": str(settings.shared_path), "MK_INDEX_PATH": str(settings.index_path),
            "MK_SHARED_PUBLIC_URLS": " ".join(settings.shared_public_urls),
            "MK_SHARED_INTERNAL_URLS": " ".join(settings.shared_internal_urls),
            "MK_SHARED_GRACE_S": str(settings.shared_grace_s)}
