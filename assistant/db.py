"""The database handle: embedded server or DATABASE_URL, migrated, a pool of connections, the model's vector index."""

from __future__ import annotations

import atexit
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from assistant import migrate, selfcheck
from assistant.config import Settings
from assistant.connection import connect
from assistant.errors import DatabaseError, EmbeddingModelError
from assistant.resources import query
from assistant.server import EmbeddedServer


class Database:
    """A pool of connections to a migrated Risk Assistant database.

    Every query borrows a connection for as long as it runs (a transaction, a statement), so several
    chats, the Slack bot and a batch run can work at once. Connections are in autocommit: work that
    must be atomic says so with `transaction()`."""

    def __init__(self, pool: ConnectionPool[psycopg.Connection[Any]], server: EmbeddedServer | None,
                 index_build_memory: str | None = None) -> None:
        self.pool = pool
        self.server = server
        self.index_build_memory = index_build_memory  # maintenance_work_mem for index builds; None: the server's

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool = True) -> Database:
        """Connect (starting the embedded server when DATABASE_URL is unset), self-check, migrate, then
        open the pool. Without `upgrade`, nothing is migrated (`risk-assistant db upgrade` does that)."""
        server = None
        if settings.database_url is None:
            server = EmbeddedServer(settings.pg_dir)
            uri = server.acquire()
            atexit.register(server.release)
        else:
            uri = settings.database_url.get_secret_value()
        try:
            selfcheck.ensure(uri, server.log_path if server else None)
            if upgrade:
                with connect(uri) as conn:
                    migrate.upgrade(conn)
            pool = open_pool(uri, size=settings.pool_size, timeout=settings.pool_timeout_s)
        except Exception:
            if server is not None:
                server.release()
            raise
        return cls(pool, server, settings.index_build_memory)

    def close(self) -> None:
        """Close the pool and give up this process's lease on the embedded server."""
        self.pool.close()
        if self.server is not None:
            self.server.release()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A connection borrowed from the pool (autocommit) until the block ends."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except PoolTimeout as err:
            raise DatabaseError(
                f"no database connection came free within {self.pool.timeout:.0f} s "
                f"({self.pool.max_size} in the pool, all busy); raise RISK_POOL_SIZE or try again"
            ) from err

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A borrowed connection in a transaction: all of it commits, or none of it."""
        with self.connection() as conn, conn.transaction():
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
        """Register the model, check its dimension against stored vectors, index its vectors."""
        with self.transaction() as conn:
            conn.execute(query("insert_embedding_model"), {"name": name, "dimension": dimension})
            row = conn.execute(query("select_embedding_model"), {"name": name}).fetchone()
            assert row is not None
            if row[1] != dimension:
                raise EmbeddingModelError(
                    f"model {name!r} produces {dimension}-dimensional vectors but the database holds "
                    f"{row[1]}-dimensional ones for it; set RISK_EMBEDDING_MODEL to the "
                    "model the data was embedded with, or re-embed into a new database"
                )
            if self.index_build_memory is not None:  # a bound value, local to this transaction
                conn.execute(query("set_local_maintenance_work_mem"), {"value": self.index_build_memory})
            conn.execute(embedding_index_ddl(name, dimension))


def open_pool(uri: str, *, size: int, timeout: float) -> ConnectionPool[psycopg.Connection[Any]]:
    """A pool of `size` connections with pgvector's types registered on each; every borrowed connection
    is checked first, so a restarted server costs one reconnect, not a failed request."""
    pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
        uri, min_size=1, max_size=size, timeout=timeout, open=False, name="risk-assistant",
        # prepare_threshold=None: no server-side prepared statements, so that per-query planner settings
        # (hnsw.ef_search, iterative scan) always reach a fresh plan (see assistant/connection.py).
        kwargs={"prepare_threshold": None, "connect_timeout": 10, "autocommit": True},
        configure=_configure, check=ConnectionPool.check_connection,
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


def embedding_index_ddl(model: str, dimension: int) -> sql.Composed:
    """CREATE INDEX for one model's vectors: HNSW, cosine, on embedding::vector(dimension)."""
    digest = hashlib.sha256(model.encode()).hexdigest()[:10]
    return sql.SQL(query("create_embedding_index")).format(
        index=sql.Identifier(f"event_embeddings_hnsw_{digest}"),
        dimension=sql.Literal(dimension),
        model=sql.Literal(model),
    )
