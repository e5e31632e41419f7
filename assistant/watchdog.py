"""Detached watchdog: stops the embedded server once no process holds a lease on it.

Started by `EmbeddedServer.acquire`; one per data directory (it holds watchdog.lock). Without
it, a client killed with SIGKILL while it was the only user would leave the server running.
"""

from __future__ import annotations

import fcntl
import sys
import time
from pathlib import Path
from typing import IO

from assistant.server import EmbeddedServer

POLL_S = 1.0
GRACE_S = 2.0  # let a client that is about to take a lease take it


def watch(root: Path) -> None:
    """Poll the leases; stop the server after GRACE_S without one, then exit."""
    server = EmbeddedServer(root)
    try:
        _watch(server)
    except FileNotFoundError:
        return  # the directory was deleted: nothing is left to watch


def _watch(server: EmbeddedServer) -> None:
    with open(server.root / "watchdog.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # another watchdog already watches this directory
        idle_since: float | None = None
        while True:
            # Decide under the directory lock and give up watchdog.lock before leaving it:
            # `acquire` looks for a watchdog under the same lock, so it never trusts one
            # that is about to exit.
            with server.locked():
                idle_since = _idle_since(server, idle_since)
                if idle_since is None and not server.is_running():
                    return _resign(handle)
                if idle_since is not None and time.monotonic() - idle_since >= GRACE_S:
                    server.shutdown()
                    return _resign(handle)
            time.sleep(POLL_S)


def _idle_since(server: EmbeddedServer, since: float | None) -> float | None:
    if not server.is_running() or server.live_leases():
        return None
    return since if since is not None else time.monotonic()


def _resign(handle: IO[str]) -> None:
    fcntl.flock(handle, fcntl.LOCK_UN)


if __name__ == "__main__":
    watch(Path(sys.argv[1]))
