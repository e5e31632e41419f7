"""Migrations: numbered, applied in order, recorded, and re-runnable as a no-op."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from assistant import migrate, vector_index
from assistant.config import Settings
from assistant.connection import connect
from assistant.db import Database
from assistant.errors import EmbeddingModelError

from .conftest import settings_for


def test_upgrade_applies_every_migration_once(db_url: str) -> None:
    conn = connect(db_url)
    first = migrate.upgrade(conn)
    assert [m.version for m in first] == [m.version for m in migrate.available()]
    assert migrate.upgrade(conn) == []
    assert migrate.applied(conn) == {m.version for m in migrate.available()}
    conn.close()


def test_migration_files_are_rerunnable(db_url: str) -> None:
    conn = connect(db_url)
    migrate.upgrade(conn)
    for migration in migrate.available():  # running a file again must change nothing
        conn.execute(migration.path.read_text().encode())
    conn.close()


def test_dimension_mismatch_is_refused_at_start_up(db: Database) -> None:
    db.ensure_embedding_model("all-MiniLM-L6-v2", 384)
    try:
        db.ensure_embedding_model("all-MiniLM-L6-v2", 768)
        raise AssertionError("a dimension mismatch must be refused")
    except EmbeddingModelError as err:
        assert "384" in str(err) and "768" in str(err)


def test_a_models_index_is_ivfflat_over_halfvec_and_no_hnsw_is_left(db: Database) -> None:
    db.ensure_embedding_model("all-MiniLM-L6-v2", 384)
    assert vector_index.maintain(db, "all-MiniLM-L6-v2", 384, force=True, lists=3) is not None
    rows = db.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'event_embeddings'")
    defs = [r[0] for r in rows if "ivfflat" in r[0] or "hnsw" in r[0]]
    assert len(defs) == 1
    assert "halfvec_cosine_ops" in defs[0] and "halfvec(384)" in defs[0] and "lists='3'" in defs[0]


def test_upgrading_drops_the_hnsw_indexes_of_0001(db: Database) -> None:
    db.ensure_embedding_model("all-MiniLM-L6-v2", 384)
    with db.admin_connection() as conn:
        conn.execute("CREATE INDEX event_embeddings_hnsw_0123456789 ON event_embeddings USING hnsw "
                     "((embedding::vector(384)) vector_cosine_ops) WHERE model = 'all-MiniLM-L6-v2'")
        conn.execute("DELETE FROM schema_migrations WHERE version = 9")
        migrate.upgrade(conn)
    assert db.execute("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'event_embeddings_hnsw_%%'") == [(0,)]


def test_settings_without_database_url_use_the_embedded_server(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None)
    assert settings.pg_dir == tmp_path / "postgres"
    assert settings_for("postgresql://x", tmp_path).database_url is not None


def test_index_build_memory_applies_to_the_build_only(db: Database) -> None:
    default = db.execute("SHOW maintenance_work_mem")[0]
    db.ensure_embedding_model("probe-model", 8)
    db.index_build_memory = "1kB"  # below PostgreSQL's minimum: the server must refuse it if it is applied
    try:
        vector_index.maintain(db, "probe-model", 8, force=True)
        raise AssertionError("a maintenance_work_mem below the minimum must reach the server and be refused")
    except psycopg.errors.InvalidParameterValue:
        pass
    db.index_build_memory = "256MB"
    assert vector_index.maintain(db, "probe-model", 8, force=True) is not None
    assert db.execute("SHOW maintenance_work_mem")[0] == default  # set on the builder's own connection only


def test_index_build_memory_setting_is_validated(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, index_build_memory="2GB").index_build_memory == "2GB"
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, index_build_memory="2GB; DROP TABLE risk_events")
