"""Concurrency: a pool of connections, a shared embedding model, and feedback stored against answers."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import psycopg
import pytest

from assistant.api import RiskAssistant
from assistant.db import Database
from assistant.embed import Embedder
from assistant.errors import DatabaseError, InputError

from .conftest import AS_OF, settings_for

QUESTIONS = (
    "high severity AML alerts in 2026",
    "Q4 2025 card-not-present fraud patterns",
    "large credit score drops in Q2 2026",
    "complaints in March 2026",
)


def _backends(db: Database) -> set[int]:
    """Process ids of the server backends connected to this database, other than the asking one."""
    rows = db.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                      "AND pid <> pg_backend_pid()")
    return {int(r[0]) for r in rows}


def test_a_query_runs_while_another_holds_its_connection(db: Database) -> None:
    # With one shared connection the second query would wait for the first transaction to end: here a
    # thread holds a transaction open until the main thread's query has answered.
    holding = threading.Event()
    release = threading.Event()
    held_pid: list[int] = []

    def hold() -> None:
        with db.transaction() as conn:
            row = conn.execute("SELECT pg_backend_pid()").fetchone()
            assert row is not None
            held_pid.append(int(row[0]))
            holding.set()
            release.wait(timeout=30)

    worker = threading.Thread(target=hold)
    worker.start()
    try:
        assert holding.wait(timeout=30)
        row = db.execute("SELECT pg_backend_pid(), 1 + 1")[0]
        assert row[1] == 2 and row[0] != held_pid[0]  # answered on a second connection
        assert held_pid[0] in _backends(db)  # while the first is still connected, mid-transaction
    finally:
        release.set()
        worker.join()


def test_an_exhausted_pool_says_which_setting_to_raise(db_url: str, tmp_path: Path) -> None:
    small = Database.open(settings_for(db_url, tmp_path, pool_size=1, pool_timeout_s=0.5))
    try:
        with small.connection(), pytest.raises(DatabaseError, match="RISK_POOL_SIZE"):
            small.execute("SELECT 1")
        assert small.execute("SELECT 1") == [(1,)]  # the connection came back when its block ended
    finally:
        small.close()


def test_connections_killed_under_the_pool_are_replaced_before_the_next_query(db_url: str, tmp_path: Path) -> None:
    # A server restart or an idle-session kill: the pool checks each connection it lends.
    database = Database.open(settings_for(db_url, tmp_path))
    try:
        before = database.execute("SELECT pg_backend_pid()")[0][0]
        with psycopg.connect(db_url, autocommit=True) as admin:
            killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
        assert killed is not None and killed[0] >= 1
        after = database.execute("SELECT pg_backend_pid()")[0][0]
        assert after != before
    finally:
        database.close()


def test_concurrent_questions_get_the_answers_sequential_ones_do(demo_assistant: RiskAssistant) -> None:
    sequential = [demo_assistant.ask(q, as_of=AS_OF) for q in QUESTIONS]
    with ThreadPoolExecutor(max_workers=4) as workers:
        concurrent = list(workers.map(lambda q: demo_assistant.ask(q, as_of=AS_OF), QUESTIONS * 2))
    for one, other in zip(sequential * 2, concurrent, strict=True):
        assert other.plan.filters == one.plan.filters
        assert other.facts.matched == one.facts.matched
        assert other.evidence_ids == one.evidence_ids
        assert other.summary == one.summary
    assert len({a.id for a in concurrent}) == len(concurrent)  # each recorded under its own id
    recorded = demo_assistant.db.execute("SELECT count(*) FROM answers WHERE id = ANY(%s::uuid[])",
                                         [[a.id for a in concurrent]])
    assert recorded[0][0] == len(concurrent)


def test_the_embedding_model_is_shared_safely_across_threads(embedder: Embedder) -> None:
    texts = [f"wire transfer to a new beneficiary number {n}" for n in range(24)]
    alone = np.stack([embedder.encode_one(t) for t in texts])
    with ThreadPoolExecutor(max_workers=6) as workers:
        together = np.stack(list(workers.map(embedder.encode_one, texts)))
    assert np.allclose(alone, together, atol=1e-5)


def test_feedback_is_stored_against_the_answer(demo_assistant: RiskAssistant) -> None:
    answer = demo_assistant.ask("high severity AML alerts in 2026", as_of=AS_OF)
    first = demo_assistant.record_feedback(answer.id, "down", comment="  misses the Q1 burst ", analyst="ana",
                                           source="ui")
    second = demo_assistant.record_feedback(answer.id, "up", analyst="ana", source="slack")
    rows = demo_assistant.db.fetch_all("select_feedback", {"answer_id": answer.id})
    assert [(r["id"], r["rating"], r["comment"], r["source"], r["analyst"]) for r in rows] == [
        (first, "down", "misses the Q1 burst", "ui", "ana"), (second, "up", None, "slack", "ana")]


def test_feedback_on_an_unknown_or_malformed_answer_id_is_refused(demo_assistant: RiskAssistant) -> None:
    with pytest.raises(InputError, match="no recorded answer"):
        demo_assistant.record_feedback(str(uuid.uuid4()), "up")
    with pytest.raises(InputError, match="not an answer id"):
        demo_assistant.record_feedback("'; DROP TABLE answers; --", "up")
    assert demo_assistant.db.execute("SELECT count(*) FROM answers")[0][0] > 0
