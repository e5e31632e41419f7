"""BM25 in PostgreSQL (migrations/0008_bm25.sql) against the reference, bm25s 0.3.16 "lucene" (k1 1.5, b 0.75),
fed the same tokens: PostgreSQL's English lexemes of each event's title and text."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import psycopg
import pytest

from assistant import bm25, migrate
from assistant.api import RiskAssistant
from assistant.db import Database
from assistant.embed import Embedder
from assistant.evaluate import beir_mapping
from assistant.ingest import ingest_file
from assistant.mapping import Mapping
from assistant.models import Filter, QueryPlan
from assistant.retrieve import RetrievalMode, retrieve
from assistant.server import EmbeddedServer
from tests.conftest import AS_OF, CfpbSet, eval_script, new_database_url, settings_for

EVAL = Path(__file__).resolve().parents[1] / "eval"
# sparsevec stores float4 weights and idfs: scores agree to about 1e-6 relative (measured: see the report).
RELATIVE = 2e-6
LIMIT = 50


@dataclass
class Reference:
    """bm25s over every event of a database, tokenised by PostgreSQL."""

    ids: list[int]
    vocabulary: set[str]
    model: bm25s.BM25
    position: dict[int, int] = field(default_factory=dict)

    def scores(self, lexemes: list[str]) -> np.ndarray:
        """The reference BM25 score of every event for these (distinct, known) query lexemes."""
        return self.model.get_scores(lexemes) if lexemes else np.zeros(len(self.ids))


@dataclass
class Tally:
    """What the equivalence checks saw."""

    queries: int = 0
    identical: int = 0  # the same ids in the same order, ties and all
    empty: int = 0  # queries with no known term: nothing returned
    worst: float = 0.0  # largest relative score difference


def reference_for(db: Database) -> Reference:
    """Read each event's lexemes and their counts (title and text tokenised apart, as search_tsv) and index them."""
    with db.admin_connection() as conn:
        ids = [int(r[0]) for r in conn.execute("SELECT id FROM risk_events ORDER BY id")]
        rows = conn.execute(
            "SELECT ev.id, t.lexeme, sum(cardinality(t.positions))::int FROM risk_events ev, LATERAL ("
            " SELECT * FROM unnest(to_tsvector('english', coalesce(ev.title, '')))"
            " UNION ALL SELECT * FROM unnest(to_tsvector('english', ev.text))) t"
            " GROUP BY ev.id, t.lexeme ORDER BY ev.id, t.lexeme").fetchall()
    tokens: dict[int, list[str]] = {i: [] for i in ids}
    for event_id, lexeme, tf in rows:
        tokens[int(event_id)] += [lexeme] * int(tf)
    model = bm25s.BM25(k1=1.5, b=0.75, method="lucene", dtype="float64")
    model.index([tokens[i] for i in ids], show_progress=False)
    return Reference(ids, {lexeme for _, lexeme, _ in rows}, model, {i: n for n, i in enumerate(ids)})


def query_lexemes(db: Database, text: str) -> list[str]:
    """The query's distinct lexemes (English config)."""
    with db.admin_connection() as conn:
        row = conn.execute("SELECT tsvector_to_array(to_tsvector('english', %s))", (text,)).fetchone()
    assert row is not None
    return sorted(row[0])


def check_query(db: Database, embedder: Embedder, reference: Reference, text: str, tally: Tally,
                filters: list[Filter] | None = None, allowed: set[int] | None = None) -> None:
    """The keyword side's hits for `text` rank as the reference's do (within ties), with its scores."""
    plan = QueryPlan(question=text, query=text, filters=filters or [], k=LIMIT, as_of=AS_OF)
    found = retrieve(db, embedder, plan, limit=LIMIT, mode="keyword")
    written = query_lexemes(db, text)
    lexemes = sorted(set(written) & reference.vocabulary)
    tally.queries += 1
    assert found.mode == ("keyword" if written else "dense")  # no lexeme at all: ranked by similarity instead
    if not lexemes:
        assert not written or not found.hits  # lexemes that no event holds: nothing
        tally.empty += 1
        return
    scores = reference.scores(lexemes)
    eligible = [(float(scores[n]), i) for n, i in enumerate(reference.ids)
                if scores[n] > 0 and (allowed is None or i in allowed)]
    expected = sorted(eligible, key=lambda pair: (-pair[0], pair[1]))[:LIMIT]
    got = [(float(scores[reference.position[h.id]]), h.id) for h in found.hits]
    assert len(got) == len(expected), text
    for (want, _), (have, hit_id) in zip(expected, got, strict=True):
        assert have == pytest.approx(want, rel=RELATIVE), text  # the same ranking, up to (near-)ties
        stored = found.ranks[hit_id].keyword_score
        assert stored is not None and stored == pytest.approx(have, rel=RELATIVE), text
        tally.worst = max(tally.worst, abs(stored - have) / have)
    tally.identical += [i for _, i in got] == [i for _, i in expected]


def _queries_from_documents(db: Database, every: int, words: int) -> list[str]:
    """Extra queries: the first words of every n-th event's text (many terms, common and rare)."""
    with db.admin_connection() as conn:
        texts = [str(r[0]) for r in conn.execute("SELECT text FROM risk_events ORDER BY id")]
    return [" ".join(t.split()[:words]) for t in texts[::every]]


@pytest.fixture(scope="module")
def finance(tmp_path_factory: pytest.TempPathFactory, server: EmbeddedServer, embedder: Embedder) -> Iterator[Database]:
    """A fresh database holding the finance passages (eval/make_beir_finance.py), weighed exactly."""

    root = tmp_path_factory.mktemp("finance")
    eval_script("make_beir_finance").build(root)
    database = Database.open(settings_for(new_database_url(server), root))
    ingest_file(database, embedder, root / "beir_finance_dev" / "corpus.jsonl", beir_mapping("beir_finance"))
    yield database
    database.close()


def _finance_questions() -> list[str]:
    questions = []
    for half in ("dev", "heldout"):
        lines = (EVAL / f"beir_finance_{half}" / "queries.jsonl")
        if not lines.is_file():
            eval_script("make_beir_finance").build(EVAL)
        questions += [json.loads(line)["text"] for line in lines.read_text(encoding="utf-8").splitlines()]
    return questions


@pytest.mark.slow
def test_the_finance_set_ranks_as_the_reference(finance: Database, embedder: Embedder) -> None:
    ingested = _stats(finance)
    assert abs(ingested["weighed_avgdl"] / ingested["avgdl"] - 1) <= bm25.AVGDL_TOLERANCE  # the policy held
    bm25.reweigh(finance, 0.0)  # exact: the weights use today's avgdl
    reference, tally = reference_for(finance), Tally()
    for text in _finance_questions() + _queries_from_documents(finance, 10, 12) + ["zzyzx quux", "the of and"]:
        check_query(finance, embedder, reference, text, tally)
    print(f"finance: {tally}")
    assert tally.queries >= 400 and tally.empty == 2 and tally.worst < RELATIVE


@pytest.mark.slow
def test_the_demo_set_ranks_as_the_reference_with_and_without_filters(demo_assistant: RiskAssistant) -> None:
    db, embedder = demo_assistant.db, demo_assistant.embedder
    bm25.reweigh(db, 0.0)
    reference, tally = reference_for(db), Tally()
    texts = [json.loads(line)["text"] for line in (EVAL / "beir_demo" / "queries.jsonl").read_text().splitlines()]
    for text in texts + _queries_from_documents(db, 30, 10):
        check_query(db, embedder, reference, text, tally)
    chargebacks = {int(r[0]) for r in db.execute("SELECT id FROM risk_events WHERE category = 'chargeback'")}
    for text in texts:
        check_query(db, embedder, reference, text, tally, [Filter(field="category", op="eq", value="chargeback")],
                    chargebacks)
    print(f"demo: {tally}")
    assert tally.queries >= 100 and tally.worst < RELATIVE


@pytest.mark.slow
def test_the_cfpb_narratives_rank_as_the_reference(cfpb: CfpbSet) -> None:
    db, embedder = cfpb.assistant.db, cfpb.assistant.embedder
    bm25.reweigh(db, 0.0)
    reference, tally = reference_for(db), Tally()
    texts = [q[1] for q in eval_script("make_beir_cfpb").QUERIES]
    for text in texts + _queries_from_documents(db, 20, 15):
        check_query(db, embedder, reference, text, tally)
    print(f"cfpb: {tally}")
    assert tally.queries >= 90 and tally.worst < RELATIVE


def _stats(db: Database) -> dict[str, float]:
    with db.admin_connection() as conn:
        row = conn.execute("SELECT documents, total_length, weighed_avgdl FROM bm25_stats").fetchone()
    assert row is not None
    return {"documents": row[0], "total_length": row[1], "weighed_avgdl": row[2] or 0.0,
            "avgdl": row[1] / row[0] if row[0] else 0.0}


def _from_scratch(conn: psycopg.Connection[Any]) -> tuple[Any, ...]:
    """(N, total length, df by lexeme, length by event) recomputed from risk_events, and as stored."""
    fresh = conn.execute(
        "SELECT count(*), coalesce(sum(l), 0) FROM (SELECT ev.id, (SELECT coalesce(sum(cardinality(positions)), 0)"
        " FROM unnest(ev.search_tsv)) AS l FROM risk_events ev) x").fetchone()
    stored = conn.execute("SELECT documents, total_length FROM bm25_stats").fetchone()
    df_fresh = dict(conn.execute("SELECT t.lexeme, count(*) FROM risk_events ev, unnest(ev.search_tsv) t"
                                 " GROUP BY t.lexeme").fetchall())
    df_stored = dict(conn.execute("SELECT lexeme, df FROM bm25_terms").fetchall())
    lengths_fresh = dict(conn.execute("SELECT ev.id, (SELECT coalesce(sum(cardinality(positions)), 0)::int"
                                      " FROM unnest(ev.search_tsv)) FROM risk_events ev").fetchall())
    lengths_stored = dict(conn.execute("SELECT event_id, length FROM event_bm25").fetchall())
    return (tuple(fresh or ()), tuple(stored or ()), df_fresh, df_stored, lengths_fresh, lengths_stored)


def _assert_stats_exact(db: Database) -> None:
    with db.admin_connection() as conn:
        fresh, stored, df_fresh, df_stored, lengths_fresh, lengths_stored = _from_scratch(conn)
        weights = conn.execute(
            "SELECT count(*) FROM event_bm25 b, bm25_stats s"
            " WHERE b.weights <> bm25_vector(b.term_ids, b.tfs, b.length, s.weighed_avgdl)").fetchone()
    assert fresh == stored and df_fresh == df_stored and lengths_fresh == lengths_stored
    assert weights is not None and weights[0] == 0


def _write(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("".join(json.dumps({"source_id": i, "occurred_at": "2026-01-01", "category": c, "text": t})
                            + "\n" for i, c, t in rows), encoding="utf-8")
    return path


FIRST = [("e1", "wire", "Wire transfer to an offshore account flagged as fraud."),
         ("e2", "card", "Card skimmer found on a fuel pump; card cloned twice."),
         ("e3", "wire", "Large wire reversed after the customer disputed it."),
         ("e4", "card", "the of and")]
SECOND = [("e1", "wire", "Wire transfer to an offshore account flagged as fraud."),  # unchanged
          ("e2", "card", "Skimmer removed from the pump."),  # changed text: its old lexemes leave
          ("e4", "card", "Contactless card used abroad."),  # from no lexeme to some
          ("e5", "aml", "Structuring: cash deposits kept under the reporting threshold, deposit after deposit.")]


def test_statistics_stay_exact_after_updates_reingests_and_deletes(db: Database, embedder: Embedder,
                                                                   tmp_path: Path) -> None:
    mapping = Mapping.identity("bm25")
    ingest_file(db, embedder, _write(tmp_path / "first.jsonl", FIRST), mapping)
    _assert_stats_exact(db)
    ingest_file(db, embedder, _write(tmp_path / "second.jsonl", SECOND), mapping)
    _assert_stats_exact(db)
    ingest_file(db, embedder, tmp_path / "second.jsonl", mapping)  # a re-ingest changes nothing
    _assert_stats_exact(db)
    db.execute("UPDATE risk_events SET status = 'closed' WHERE source_id = 'e1'")  # not its text: no re-count
    db.execute("DELETE FROM risk_events WHERE source_id = 'e3'")
    _assert_stats_exact(db)
    assert bm25.reweigh(db)  # the delete moved avgdl by 1%: the next ingest run (or this) re-weighs
    _assert_stats_exact(db)
    stats = _stats(db)
    assert stats["documents"] == 4 and stats["weighed_avgdl"] == stats["avgdl"]
    assert not bm25.reweigh(db)
    with db.admin_connection() as conn:
        assert conn.execute("SELECT count(*) FROM bm25_terms WHERE lexeme IN ('clone', 'revers')").fetchone() == (0,)
    db.execute("DELETE FROM risk_events")
    assert _stats(db) == {"documents": 0, "total_length": 0, "weighed_avgdl": 0.0, "avgdl": 0.0}


def test_bm25_under_a_filter_returns_only_filtered_rows(db: Database, embedder: Embedder, tmp_path: Path) -> None:
    ingest_file(db, embedder, _write(tmp_path / "first.jsonl", FIRST + SECOND[3:]), Mapping.identity("bm25"))
    plan = QueryPlan(question="wire card", query="wire card skimmer", as_of=AS_OF, k=10,
                     filters=[Filter(field="category", op="eq", value="card")])
    modes: tuple[RetrievalMode, ...] = ("keyword", "hybrid")
    for mode in modes:
        found = retrieve(db, embedder, plan, mode=mode)
        assert found.hits and {h.fields["category"] for h in found.hits} == {"card"}
    keyword = retrieve(db, embedder, plan, mode="keyword")
    assert [h.fields["source_id"] for h in keyword.hits] == ["e2"]  # e4 has no lexeme


def test_a_query_with_no_known_term_matches_nothing(db: Database, embedder: Embedder, tmp_path: Path) -> None:
    ingest_file(db, embedder, _write(tmp_path / "first.jsonl", FIRST), Mapping.identity("bm25"))
    with db.admin_connection() as conn:
        for text in ("zyzzyva quux", "the and of", "", "!! --"):
            assert conn.execute("SELECT known, terms FROM bm25_query(%s)", (text,)).fetchone() == (0, None)
    plan = QueryPlan(question="q", query="zyzzyva quux", as_of=AS_OF, k=10)
    keyword, dense = retrieve(db, embedder, plan, mode="keyword"), retrieve(db, embedder, plan, mode="dense")
    assert keyword.mode == "keyword" and not keyword.hits  # terms that no event holds: nothing
    hybrid = retrieve(db, embedder, plan, mode="hybrid")
    assert not any(r.keyword_rank for r in hybrid.ranks.values())
    assert [h.id for h in hybrid.hits] == [h.id for h in dense.hits]  # the product ranks by similarity alone
    stop_words = retrieve(db, embedder, plan.model_copy(update={"query": "the and of"}), mode="keyword")
    assert stop_words.mode == "dense" and stop_words.hits  # no lexeme at all: falls back to dense, as before


def test_an_analyst_sees_the_bm25_rows_and_hits_of_their_scopes_only(db: Database, embedder: Embedder,
                                                                      tmp_path: Path) -> None:
    path = tmp_path / "scoped.jsonl"
    path.write_text("".join(json.dumps({"source_id": i, "occurred_at": "2026-01-01", "category": c, "text": t,
                                        "scope": "eu" if n % 2 else "us"}) + "\n"
                            for n, (i, c, t) in enumerate(FIRST)), encoding="utf-8")
    ingest_file(db, embedder, path, Mapping.identity("bm25"))
    eu = db.scoped(["eu"])
    assert eu.execute("SELECT count(*) FROM event_bm25")[0][0] == 2
    plan = QueryPlan(question="q", query="wire card skimmer fraud", as_of=AS_OF, k=10)
    found = retrieve(eu, embedder, plan, mode="keyword")
    assert found.hits and {h.fields["scope"] for h in found.hits} == {"eu"}


def test_the_app_role_cannot_read_the_vocabulary(db: Database) -> None:
    for statement in ("SELECT lexeme FROM bm25_terms", "SELECT * FROM bm25_stats",
                      "SELECT bm25_add('{}', '{}')"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), db.connection() as conn:
            conn.execute(statement)


def test_the_migration_backfills_events_stored_before_it(db_url: str, tmp_path: Path) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        migrate.applied(conn)
        for migration in migrate.available():
            if migration.version < 8:
                migrate._apply(conn, migration)
        for source_id, _, text in FIRST:
            conn.execute("INSERT INTO risk_events (source, source_id, occurred_at, category, text, content_hash)"
                         " VALUES ('old', %s, now(), 'x', %s, '\\x00')", (source_id, text))
    database = Database.open(settings_for(db_url, tmp_path))
    try:
        _assert_stats_exact(database)
        stats = _stats(database)
        assert stats["documents"] == 4 and stats["weighed_avgdl"] == pytest.approx(stats["avgdl"])
        assert math.isclose(stats["avgdl"], stats["total_length"] / 4)
    finally:
        database.close()
