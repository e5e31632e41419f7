"""The embedded server is safe to share: concurrent start-up, SIGKILLed clients, clean stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from assistant.connection import connect
from assistant.server import EmbeddedServer, default_shared_buffers

CLIENT = """
import sys, time, psycopg
from pathlib import Path
from assistant.server import EmbeddedServer
server = EmbeddedServer(Path(sys.argv[1]))
uri = server.acquire()
with psycopg.connect(uri) as conn:
    conn.execute("SELECT 1")
print("ready", flush=True)
time.sleep(float(sys.argv[2]))
server.release()
"""


def _client(root: Path, hold_s: float) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CLIENT, str(root), str(hold_s)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else line


def _wait_until(condition: object, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def test_two_processes_starting_at_once_on_a_new_directory_both_succeed(tmp_path: Path) -> None:
    root = tmp_path / "new"
    clients = [_client(root, 1.0), _client(root, 1.0)]
    for proc in clients:
        _wait_ready(proc)
    assert all(proc.wait(30) == 0 for proc in clients)
    server = EmbeddedServer(root)
    assert _wait_until(lambda: not server.is_running()), "the server outlived its last client"


def test_sigkilled_sole_client_leaves_no_server_running(tmp_path: Path) -> None:
    root = tmp_path / "killed"
    proc = _client(root, 300)
    _wait_ready(proc)
    server = EmbeddedServer(root)
    assert server.is_running()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert _wait_until(lambda: not server.is_running()), "nobody stopped the server"


def test_sigkilled_client_does_not_keep_the_server_alive_for_others(tmp_path: Path) -> None:
    root = tmp_path / "shared"
    server = EmbeddedServer(root)
    victim = _client(root, 300)
    _wait_ready(victim)
    server.acquire()
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert server.live_leases() == 1  # only ours: the dead client's lease is recognised as stale
    server.release()
    assert not server.is_running()


def test_release_keeps_the_server_while_another_process_uses_it(tmp_path: Path) -> None:
    root = tmp_path / "busy"
    other = _client(root, 8)
    _wait_ready(other)
    server = EmbeddedServer(root)
    uri = server.acquire()
    server.release()
    assert server.is_running()
    with psycopg.connect(uri) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    other.wait(30)
    assert _wait_until(lambda: not server.is_running())


def test_stop_refuses_while_in_use_unless_forced(tmp_path: Path) -> None:
    from assistant.errors import DatabaseError

    server = EmbeddedServer(tmp_path / "stop")
    server.acquire()
    try:
        server.stop()
        raise AssertionError("stop() should refuse while a lease is held")
    except DatabaseError as err:
        assert "--force" in str(err)
    assert server.stop(force=True)
    assert not server.is_running()
    server.release()


def test_the_server_gets_shared_buffers_sized_to_the_memory(server: EmbeddedServer) -> None:
    expected = default_shared_buffers()
    megabytes = int(expected.removesuffix("MB"))
    assert 128 <= megabytes <= 4096
    with connect(server.uri()) as conn:
        shown = conn.execute("SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'")
        assert shown.fetchone() == (megabytes,)  # 8 kB pages, as the server counts them


def test_shared_buffers_can_be_set(tmp_path: Path) -> None:
    own = EmbeddedServer(tmp_path / "own", shared_buffers="160MB")
    try:
        with connect(own.acquire()) as conn:
            assert conn.execute("SHOW shared_buffers").fetchone() == ("160MB",)
    finally:
        own.release()
