"""Opening a connection to PostgreSQL: one set of options, and errors that never echo a secret."""

from __future__ import annotations

from typing import Any

import psycopg

from assistant.errors import DatabaseError


def connect(uri: str) -> psycopg.Connection[Any]:
    """Open a connection; errors never echo the URI (it may hold a password)."""
    try:
        # prepare_threshold=None: no server-side prepared statements, so that per-query planner
        # settings (ivfflat.probes, iterative scan) always reach a fresh plan. Autocommit: work
        # that must be atomic says so with `transaction()`, and no idle transaction is left open.
        return psycopg.connect(uri, prepare_threshold=None, connect_timeout=10, autocommit=True)
    except psycopg.OperationalError as err:
        raise DatabaseError(f"cannot connect to the database: {without_secrets(str(err))}") from err


def without_secrets(message: str) -> str:
    """The message without lines that could hold a password."""
    return "\n".join(line for line in message.splitlines() if "password" not in line.lower())
