"""The start-up self-check: does this PostgreSQL's pgvector work on this CPU?

Before the first real query, on a connection of its own, the smoke test in
db/queries/smoke_test_vector.sql runs inside a transaction that is rolled back: pgvector is
loaded, 384-dimension vectors are inserted, ordered by cosine (and L2, inner product, Hamming,
halfvec) and indexed with HNSW and IVFFlat (over halfvec). A pgvector compiled for instructions this CPU lacks kills the
backend there (signal 4, illegal instruction); the user then gets one error naming the cause and
the way out, instead of a stack of follow-on errors from a server in recovery.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from assistant.connection import connect, without_secrets
from assistant.errors import DatabaseError
from assistant.resources import query

MIN_PGVECTOR = (0, 8)
_STEP = re.compile(r"^-- step: (.+)$", re.MULTILINE)
_SIGNAL = re.compile(r"terminated by signal (\d+): ([^\n]+)")
_ILLEGAL_INSTRUCTION = 4
_WAY_OUT = "set DATABASE_URL to another PostgreSQL with pgvector >= 0.8"


@dataclass(frozen=True)
class SelfCheck:
    """The outcome of one self-check: versions found, and whether the smoke test passed."""

    postgres: str | None
    pgvector: str | None  # installed in this database, else the version the server would install
    passed: bool
    message: str
    seconds: float


_passed: set[str] = set()  # URIs whose server passed in this process: checked once, not per connection


def ensure(uri: str, server_log: Path | None = None) -> None:
    """Run the self-check once per process and server; raise DatabaseError if it fails."""
    if uri in _passed:
        return
    result = check(uri, server_log)
    if not result.passed:
        raise DatabaseError(result.message)
    _passed.add(uri)


def check(uri: str, server_log: Path | None = None) -> SelfCheck:
    """Check pgvector's presence and version, then run the smoke test; never raises for a failed check."""
    started = time.monotonic()
    conn = connect(uri)
    versions: dict[str, Any] = {}
    try:
        versions = _versions(conn)
        problem = version_problem(versions) or run_smoke_test(conn, uri, server_log)
    finally:
        conn.close()
    pgvector = versions.get("installed") or versions.get("available")
    seconds = time.monotonic() - started
    postgres = versions.get("postgres")
    message = problem or f"passed: pgvector {pgvector} on PostgreSQL {postgres} ({seconds * 1000:.0f} ms)"
    return SelfCheck(postgres, pgvector, problem is None, message, seconds)


def smoke_steps() -> list[tuple[str, str]]:
    """The smoke test's statements with their step names, in order."""
    steps = []
    for block in query("smoke_test_vector").split(";\n\n"):
        named = _STEP.search(block)
        statement = "\n".join(line for line in block.splitlines() if not line.startswith("--")).strip()
        if named and statement:
            steps.append((named.group(1), statement))
    return steps


def _versions(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(query("select_pgvector_versions"))
        row = cur.fetchone()
    assert row is not None
    return row


def version_problem(versions: dict[str, Any]) -> str | None:
    """What is wrong with the pgvector versions found (postgres, installed, available), or None."""
    installed, available = versions["installed"], versions["available"]
    if installed is None and available is None:
        return (f"this PostgreSQL ({versions['postgres']}) has no pgvector extension: install pgvector "
                f">= 0.8 on it, leave DATABASE_URL unset to use the embedded server, or {_WAY_OUT}")
    if installed is not None and _version(installed) < MIN_PGVECTOR:
        return (f"pgvector {installed} is installed in this database and 0.8 or newer is required: "
                f"run ALTER EXTENSION vector UPDATE as its owner (the server offers {available}), or {_WAY_OUT}")
    if installed is None and _version(available) < MIN_PGVECTOR:
        return f"this PostgreSQL offers pgvector {available} and 0.8 or newer is required: upgrade it, or {_WAY_OUT}"
    return None


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:2])


def run_smoke_test(conn: psycopg.Connection[Any], uri: str, server_log: Path | None) -> str | None:
    """Run the smoke statements in a rolled-back transaction on `conn`; the problem found, or None."""
    step = "begin a transaction"
    try:
        with conn.transaction(force_rollback=True):
            for name, statement in smoke_steps():
                step = name  # named in the message if the backend dies here
                cur = conn.execute(statement.encode())
            row = cur.fetchone()
            if row is None or row[0] is not True:
                return (f"pgvector's self-check returned wrong nearest neighbours ({step}): its build does not "
                        f"compute correctly on this CPU; {_WAY_OUT}")
    except psycopg.errors.InsufficientPrivilege:
        return ("pgvector is available but not installed in this database, and this role may not install it: "
                "ask its owner to run CREATE EXTENSION vector, or use a database where you may")
    except psycopg.OperationalError as err:
        if not conn.broken:
            raise
        return _crash_message(step, uri, server_log, err)
    except psycopg.Error as err:
        return f"pgvector's self-check failed at step '{step}': {without_secrets(str(err)).strip()}; {_WAY_OUT}"
    return None


def _crash_message(step: str, uri: str, server_log: Path | None, err: Exception) -> str:
    found = _SIGNAL.search(_log_tail(uri, server_log))
    where = f"at step '{step}' of pgvector's self-check"
    if found and int(found.group(1)) == _ILLEGAL_INSTRUCTION:
        return (f"the pgvector build of this PostgreSQL crashes on this CPU (signal 4, illegal instruction: "
                f"it was compiled for instructions this processor lacks, such as AVX-512), {where}; {_WAY_OUT}")
    if found:
        return (f"a backend of this PostgreSQL died {where} (signal {found.group(1)}: {found.group(2)}); "
                f"see the server's log, or {_WAY_OUT}")
    return (f"the server closed the connection {where} ({without_secrets(str(err)).strip()}): its pgvector build "
            "may crash on this CPU (for example signal 4, illegal instruction, when it was compiled for AVX-512); "
            f"see the server's log, or {_WAY_OUT}")


def _log_tail(uri: str, server_log: Path | None, chars: int = 20_000) -> str:
    """The end of the server's log: from the file when it is ours, else through SQL once it is back."""
    if server_log is not None:
        time.sleep(0.2)  # the postmaster logs the signal just after the backend died
        return server_log.read_text(errors="replace")[-chars:] if server_log.exists() else ""
    deadline = time.monotonic() + 15  # the server restarts after crash recovery
    while time.monotonic() < deadline:
        try:
            with connect(uri) as conn:
                row = conn.execute(query("select_server_log_tail").encode(), {"chars": chars}).fetchone()
                return str(row[0]) if row and row[0] else ""
        except DatabaseError:
            time.sleep(0.5)  # still in recovery
        except psycopg.Error:
            return ""  # no logging collector, or no right to read the log
    return ""
