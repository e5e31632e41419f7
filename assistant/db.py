"""The database handle: embedded server or DATABASE_URL, migrated, a pool of connections, the model's vector index."""

from __future__ import annotations

import atexit
import contextlib
import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg import conninfo, sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout
from pydantic import SecretStr

from assistant import migrate, selfcheck
from assistant.config import Settings
from assistant.connection import connect, without_secrets
from assistant.errors import ConfigError, DatabaseError, EmbeddingModelError
from assistant.resources import query
from assistant.server import EmbeddedServer

log = logging.getLogger(__name__)


APP_ROLE = "risk_app"  # created by migrations/0007_row_level_security.sql: no superuser, no BYPASSRLS
ALL_SCOPES: tuple[str, ...] = ("*",)  # every scope: ingestion, administration, the default single-user install


class Database:
    """A pool of connections to a migrated Risk Assistant database, seen through a set of scopes.

    Every query borrows a connection for as long as it runs, in a transaction that first sets the
    request's scopes (`risk.scopes`, read by the row-level security policies of
    migrations/0007_row_level_security.sql), so several chats, the Slack bot and a batch run can work at
    once, each seeing only its analyst's events. The pool logs in as the app role, which the policies
    bind; migrations and index builds use the admin login (`admin_uri`). `scoped()` gives the same pool
    seen through other scopes."""

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]], server: EmbeddedServer | None,
                 index_build_memory: str | None = None, *, admin_uri: str,
                 scopes: tuple[str, ...] = ALL_SCOPES) -> None:
        self.pool = pool
        self.server = server
        self.index_build_memory = index_build_memory  # maintenance_work_mem for index builds; None: the server's
        self.admin_uri = admin_uri
        self.scopes = scopes

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool = True) -> Database:
        """Connect (starting the embedded server when DATABASE_URL is unset), self-check, migrate, then
        open the pool as the app role. Without `upgrade`, nothing is migrated (`risk-assistant db
        upgrade` does that) and the pool logs in as the admin."""
        server = None
        if settings.database_url is None:
            server = EmbeddedServer(settings.pg_dir, settings.pg_shared_buffers)
            uri = server.acquire()
            atexit.register(server.release)
        else:
            uri = settings.database_url.get_secret_value()
        try:
            selfcheck.ensure(uri, server.log_path if server else None)
            if upgrade:
                with connect(uri) as conn:
                    migrate.upgrade(conn)
                login, set_role = app_login(uri, settings.app_database_url)
            else:
                login, set_role = uri, False
            pool = open_pool(login, size=settings.pool_size, timeout=settings.pool_timeout_s, set_role=set_role)
        except Exception:
            if server is not None:
                server.release()
            raise
        return cls(pool, server, settings.index_build_memory, admin_uri=uri)

    def scoped(self, scopes: Sequence[str]) -> Database:
        """The same pool, seen through these scopes (none: nothing is visible)."""
        return Database(self.pool, self.server, self.index_build_memory, admin_uri=self.admin_uri,
                        scopes=tuple(scopes))

    def close(self) -> None:
        """Close the pool and give up this process's lease on the embedded server."""
        self.pool.close()
        if self.server is not None:
            self.server.release()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection borrowed from the pool until the block ends, in a transaction that sees this
        handle's scopes: all of the block commits, or none of it."""
        try:
            with self.pool.connection() as conn, conn.transaction():
                conn.execute(query("set_request_scopes"), {"scopes": ",".join(self.scopes)})
                yield conn
        except PoolTimeout as err:
            raise DatabaseError(
                f"no database connection came free within {self.pool.timeout:.0f} s ({self.pool.max_size} in "
                "the pool): all busy (raise RISK_POOL_SIZE or try again), or the database cannot be reached"
            ) from err
        except (psycopg.errors.QueryCanceled, PoolClosed):
            raise  # a statement timeout is the caller's to handle; a closed pool is a bug, not the database
        except psycopg.OperationalError as err:  # the server shut down, crashed or ran out of disk mid-query
            first = without_secrets(str(err)).strip().splitlines()[:1]
            raise DatabaseError(f"the database failed while a query ran ({''.join(first)}); nothing of the "
                                "unfinished work was kept: try again") from err

    def transaction(self) -> contextlib.AbstractContextManager[psycopg.Connection[Any]]:
        """A borrowed connection in a transaction (every borrowed connection is one)."""
        return self.connection()

    @contextmanager
    def admin_connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection of the admin login, outside the pool and the policies: migrations, index
        builds, the analysts table. Never for a request's queries."""
        with connect(self.admin_uri) as conn:
            yield conn

    def execute(self, statement: str | sql.SQL | sql.Composed, params: Any = None) -> list[tuple[Any, ...]]:
        """Run one statement on a borrowed connection; its rows (none for a statement without)."""
        with self.connection() as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description is not None else []

    def fetch_all(self, name: str, params: Any = None) -> list[dict[str, Any]]:
        """Run a named query and return its rows as dicts."""
        with self.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query(name), params)
            return cur.fetchall()

    def fetch_one(self, name: str, params: Any = None) -> dict[str, Any] | None:
        """Run a named query and return its first row as a dict, if any."""
        rows = self.fetch_all(name, params)
        return rows[0] if rows else None

    def ensure_embedding_model(self, name: str, dimension: int) -> None:
        """Register the model and check its dimension against stored vectors (its index is built from the
        vectors once there are enough of them: assistant/vector_index.py)."""
        # The model table is the owner's to write: the admin login, not the app role.
        with self.admin_connection() as conn, conn.transaction():
            conn.execute(query("insert_embedding_model"), {"name": name, "dimension": dimension})
            row = conn.execute(query("select_embedding_model"), {"name": name}).fetchone()
            assert row is not None
            if row[1] != dimension:
                raise EmbeddingModelError(
                    f"model {name!r} produces {dimension}-dimensional vectors but the database holds "
                    f"{row[1]}-dimensional ones for it; set RISK_EMBEDDING_MODEL to the "
                    "model the data was embedded with, or re-embed into a new database"
                )


def app_login(admin_uri: str, app_uri: SecretStr | None) -> tuple[str, bool]:
    """How the pool logs in: RISK_APP_DATABASE_URL when set; else the admin's server as the app role
    (the embedded server trusts its own socket); else, where that login is refused, the admin's
    login switched to the app role (SET ROLE) on each connection. Never a role that skips the policies."""
    if app_uri is not None:
        uri = app_uri.get_secret_value()
        _refuse_unbound_role(uri, "RISK_APP_DATABASE_URL")
        return uri, False
    as_app = conninfo.make_conninfo(admin_uri, user=APP_ROLE, password="")
    try:
        with connect(as_app):
            return as_app, False
    except DatabaseError:
        log.warning("cannot log in as %s without a password: switching to it with SET ROLE on each connection; "
                    "set RISK_APP_DATABASE_URL to give the app a login of its own", APP_ROLE)
        return admin_uri, True


def _refuse_unbound_role(uri: str, setting: str) -> None:
    with connect(uri) as conn:
        row = conn.execute(query("select_role_skips_policies")).fetchone()
    if row is not None and row[0]:
        raise ConfigError(f"{setting} logs in as a superuser or a BYPASSRLS role: row-level security would "
                          f"not apply; give it a login of role {APP_ROLE} (or one granted it)")


def open_pool(uri: str, *, size: int, timeout: float,
              set_role: bool = False) -> ConnectionPool[psycopg.Connection[Any]]:
    """A pool of `size` connections with pgvector's types registered on each (and, with `set_role`, the
    app role taken); every borrowed connection is checked first, so a restarted server costs one
    reconnect, not a failed request."""
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        uri, min_size=1, max_size=size, timeout=timeout, open=False, name="risk-assistant",
        # prepare_threshold=None: no server-side prepared statements, so that per-query planner settings
        # (ivfflat.probes, iterative scan) always reach a fresh plan (see assistant/connection.py).
        kwargs={"prepare_threshold": None, "connect_timeout": 10, "autocommit": True},
        configure=_configure_as_app if set_role else _configure, check=ConnectionPool.check_connection,
    )
    try:
        pool.open(wait=True, timeout=timeout)
    except PoolTimeout as err:
        pool.close()
        raise DatabaseError(f"cannot connect to the database within {timeout:.0f} s") from err
    return pool


def _configure(conn: psycopg.Connection[Any]) -> None:
    """Each new connection: pgvector's types, when the extension exists (it does once migrated)."""
    # An unmigrated database has no vector type yet: `db upgrade` opens a pool before the extension exists.
    with suppress(psycopg.ProgrammingError):
        register_vector(conn)


def _configure_as_app(conn: psycopg.Connection[Any]) -> None:
    """Each new connection of an admin login: the app role first, then pgvector's types."""
    conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(APP_ROLE)))
    _configure(conn)
