"""The database handle: embedded server or DATABASE_URL, migrated, with the model's vector index."""

from __future__ import annotations

import atexit
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from pgvector.psycopg import register_vector
from psycopg import sql
from psycopg.rows import dict_row

from assistant import migrate, selfcheck
from assistant.config import Settings
from assistant.connection import connect
from assistant.errors import EmbeddingModelError
from assistant.resources import query
from assistant.server import EmbeddedServer


class Database:
    """A connection to a migrated Risk Assistant database."""

    def __init__(self, conn: psycopg.Connection[Any], server: EmbeddedServer | None,
                 index_build_memory: str | None = None) -> None:
        self.conn = conn
        self.server = server
        self.index_build_memory = index_build_memory  # maintenance_work_mem for index builds; None: the server's

    @classmethod
    def open(cls, settings: Settings, *, upgrade: bool = True) -> Database:
        """Connect (starting the embedded server when DATABASE_URL is unset), self-check and migrate."""
        server = None
        if settings.database_url is None:
            server = EmbeddedServer(settings.pg_dir)
            uri = server.acquire()
            atexit.register(server.release)
        else:
            uri = settings.database_url.get_secret_value()
        try:
            selfcheck.ensure(uri, server.log_path if server else None)
        except Exception:
            if server is not None:
                server.release()
            raise
        conn = connect(uri)
        db = cls(conn, server, settings.index_build_memory)
        if upgrade:
            migrate.upgrade(conn)
            register_vector(conn)
        return db

    def close(self) -> None:
        """Close the connection and give up this process's lease on the embedded server."""
        self.conn.close()
        if self.server is not None:
            self.server.release()

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """A transaction: all of it commits, or none of it."""
        with self.conn.transaction():
            yield self.conn

    def fetch_all(self, name: str, params: Any = None) -> list[dict[str, Any]]:
        """Run a named query and return its rows as dicts."""
        with self.conn.cursor(row_factory=dict_row) as cur:
            cur.execute(query(name), params)
            return cur.fetchall()

    def fetch_one(self, name: str, params: Any = None) -> dict[str, Any] | None:
        """Run a named query and return its first row as a dict, if any."""
        rows = self.fetch_all(name, params)
        return rows[0] if rows else None

    def ensure_embedding_model(self, name: str, dimension: int) -> None:
        """Register the model, check its dimension against stored vectors, index its vectors."""
        with self.transaction():
            self.conn.execute(query("insert_embedding_model"), {"name": name, "dimension": dimension})
            row = self.fetch_one("select_embedding_model", {"name": name})
            assert row is not None
            if row["dimension"] != dimension:
                raise EmbeddingModelError(
                    f"model {name!r} produces {dimension}-dimensional vectors but the database holds "
                    f"{row['dimension']}-dimensional ones for it; set RISK_EMBEDDING_MODEL to the "
                    "model the data was embedded with, or re-embed into a new database"
                )
            if self.index_build_memory is not None:  # a bound value, local to this transaction
                self.conn.execute(query("set_local_maintenance_work_mem"), {"value": self.index_build_memory})
            self.conn.execute(embedding_index_ddl(name, dimension))


def embedding_index_ddl(model: str, dimension: int) -> sql.Composed:
    """CREATE INDEX for one model's vectors: HNSW, cosine, on embedding::vector(dimension)."""
    digest = hashlib.sha256(model.encode()).hexdigest()[:10]
    return sql.SQL(query("create_embedding_index")).format(
        index=sql.Identifier(f"event_embeddings_hnsw_{digest}"),
        dimension=sql.Literal(dimension),
        model=sql.Literal(model),
    )
