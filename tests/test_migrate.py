"""Migrations: numbered, applied in order, recorded, and re-runnable as a no-op."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from pydantic import ValidationError

from assistant import migrate
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


def test_hnsw_index_exists_for_the_model(db: Database) -> None:
    db.ensure_embedding_model("all-MiniLM-L6-v2", 384)
    rows = db.execute(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'event_embeddings' AND indexdef LIKE '%hnsw%'"
    )
    assert len(rows) == 1 and "vector_cosine_ops" in rows[0][0] and "vector(384)" in rows[0][0]


def test_settings_without_database_url_use_the_embedded_server(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None)
    assert settings.pg_dir == tmp_path / "postgres"
    assert settings_for("postgresql://x", tmp_path).database_url is not None


def test_index_build_memory_applies_to_the_build_only(db: Database) -> None:
    default = db.execute("SHOW maintenance_work_mem")[0]
    db.index_build_memory = "1kB"  # below PostgreSQL's minimum: the server must refuse it if it is applied
    try:
        db.ensure_embedding_model("probe-model", 8)
        raise AssertionError("a maintenance_work_mem below the minimum must reach the server and be refused")
    except psycopg.errors.InvalidParameterValue:
        pass
    db.index_build_memory = "256MB"
    db.ensure_embedding_model("probe-model", 8)
    assert db.execute("SHOW maintenance_work_mem")[0] == default  # SET LOCAL: gone after the build


def test_index_build_memory_setting_is_validated(tmp_path: Path) -> None:
    assert Settings(data_dir=tmp_path, index_build_memory="2GB").index_build_memory == "2GB"
    with pytest.raises(ValidationError):
        Settings(data_dir=tmp_path, index_build_memory="2GB; DROP TABLE risk_events")
