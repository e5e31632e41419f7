"""Hybrid retrieval: vector and BM25 keyword ranks fused by reciprocal rank fusion, under the plan's filters."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import pytest

from assistant.api import RiskAssistant
from assistant.db import Database
from assistant.demo import DemoSet
from assistant.embed import Embedder
from assistant.ingest import ingest_file
from assistant.mapping import Mapping
from assistant.models import Filter, LikeTarget, QueryPlan
from assistant.retrieve import Fusion, Retrieval, RetrievalMode, retrieve
from assistant.server import EmbeddedServer

from .conftest import AS_OF, new_database_url, settings_for, vector_indexed

HOSTILE = ["'); DROP TABLE risk_events; --", "&|!:*", "risk_events:* & !(", '"unclosed <-> -']
MODES: list[RetrievalMode] = ["dense", "keyword", "hybrid"]
FILLERS = 110  # more than a hybrid side's candidates (100 for k <= 25), so the vector side misses some

# "both" is about the query and names the keyword; fillers are about card tampering (nearer the query than
# "keyword_only", farther than "both"); "keyword_only" names the keyword but is about office chairs, so the
# vector side ranks it last, past its candidates.
SMALL_ROWS = [
    {"source_id": "both", "text": "Card skimmer on a fuel pump at the Zebrafinch station.", "entity_id": "ACC-1"},
    {"source_id": "keyword_only", "text": "Zebrafinch newsletter: new office chairs arrive next week."},
    *({"source_id": f"filler-{i}", "text": f"Card reader tampering suspected at terminal {i} in a petrol station shop."}
      for i in range(FILLERS)),
]
SMALL_PLAN = QueryPlan(question="skimmers", query="card skimmer on a fuel pump", keywords=["zebrafinch"],
                       as_of=AS_OF, k=20)


@pytest.fixture(scope="module")
def small(server: EmbeddedServer, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A database of its own holding SMALL_ROWS."""
    tmp = tmp_path_factory.mktemp("small")
    database = Database.open(settings_for(new_database_url(server), tmp))
    base = {"occurred_at": "2025-11-03T10:00:00+00:00", "category": "fraud_alert"}
    path = tmp / "events.jsonl"
    path.write_text("".join(json.dumps({**base, **row}) + "\n" for row in SMALL_ROWS))
    result = ingest_file(database, embedder, path, Mapping.identity("t"))
    assert result.inserted == len(SMALL_ROWS)
    yield database
    database.close()


def _run(assistant: RiskAssistant, plan: QueryPlan, mode: RetrievalMode, *, fusion: Fusion | None = None,
         limit: int | None = None, exact_below: int = 20_000) -> Retrieval:
    return retrieve(assistant.db, assistant.embedder, plan, mode=mode, fusion=fusion, limit=limit,
                    exact_below=exact_below)


def _ids(found: Retrieval) -> list[int]:
    return [h.id for h in found.hits]


def _fraud_plan(assistant: RiskAssistant, keywords: list[str]) -> QueryPlan:
    plan = assistant.plan("suspicious fraud alerts in 2025", as_of=AS_OF)
    return plan.model_copy(update={"keywords": keywords})


def _rare_account(demo: DemoSet) -> str:
    """The first account id that appears in the text of exactly one demo event."""
    counts = Counter(acc for row in demo.rows for acc in set(re.findall(r"ACC-\d+", f"{row['title']} {row['text']}")))
    return str(min(acc for acc, n in counts.items() if n == 1))


def test_hybrid_ranks_events_found_by_both_sides_first(small: Database, embedder: Embedder) -> None:
    # Equal weights: an event both sides rank beats one that only one side ranks.
    found = retrieve(small, embedder, SMALL_PLAN, mode="hybrid", fusion=Fusion(vector_weight=1.0, keyword_weight=1.0))
    by_source = {h.fields["source_id"]: h for h in found.hits}
    assert (found.mode, found.method) == ("hybrid", "exact")
    both, keyword_only = found.ranks[by_source["both"].id], found.ranks[by_source["keyword_only"].id]
    assert both.vector_rank is not None and both.keyword_rank is not None
    assert keyword_only.vector_rank is None and keyword_only.keyword_rank is not None  # ranked last by vector
    vector_only = [h for h in found.hits if found.ranks[h.id].keyword_rank is None]
    assert vector_only and all(found.ranks[h.id].vector_rank is not None for h in vector_only)
    assert found.hits[0].fields["source_id"] == "both"
    assert by_source["both"].score > max(h.score for h in found.hits[1:])


def test_rrf_scores_equal_the_formula_over_each_sides_ranks(demo_assistant: RiskAssistant) -> None:
    fusion = Fusion(k=10, vector_weight=0.7, keyword_weight=1.3)
    found = _run(demo_assistant, _fraud_plan(demo_assistant, ["Harbor"]), "hybrid", fusion=fusion, limit=60)
    sides = [(r.vector_rank, r.keyword_rank) for r in (found.ranks[h.id] for h in found.hits)]
    assert {(v is not None, w is not None) for v, w in sides} == {(True, True), (True, False), (False, True)}
    for hit, (vector_rank, keyword_rank) in zip(found.hits, sides, strict=True):
        vector = 0.7 / (10 + vector_rank) if vector_rank else 0.0
        expected = vector + (1.3 / (10 + keyword_rank) if keyword_rank else 0.0)
        assert hit.score == pytest.approx(expected, abs=1e-6)
    assert [h.score for h in found.hits] == sorted((h.score for h in found.hits), reverse=True)


def test_hybrid_under_filters_returns_only_matching_events(demo_assistant: RiskAssistant) -> None:
    plan = QueryPlan(question="chargebacks", query="customer disputes an online charge", keywords=["online"],
                     as_of=AS_OF, k=30, filters=[Filter(field="category", op="eq", value="chargeback"),
                                                 Filter(field="severity", op="in", value=["medium", "high"]),
                                                 Filter(field="occurred_at", op="gte", value="2025-06-01")])
    found = _run(demo_assistant, plan, "hybrid")
    assert len(found.hits) == min(plan.k, found.matched) and found.matched < 3000
    assert any(found.ranks[h.id].keyword_rank for h in found.hits)  # the keyword side took part
    for hit in found.hits:
        assert hit.fields["category"] == "chargeback" and hit.fields["severity"] in ("medium", "high")
        assert dt.datetime.fromisoformat(hit.fields["occurred_at"]) >= dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    keyword = _run(demo_assistant, plan, "keyword")
    assert keyword.hits and all(h.fields["category"] == "chargeback" for h in keyword.hits)
    assert all("online" in h.fields["text"].lower() for h in keyword.hits)


def test_keyword_mode_finds_a_rare_token_that_dense_search_ranks_lower(demo_assistant: RiskAssistant,
                                                                       demo: DemoSet) -> None:
    account = _rare_account(demo)
    plan = QueryPlan(question=account, query=account, keywords=[account], as_of=AS_OF, k=20)
    keyword = _run(demo_assistant, plan, "keyword")
    assert (keyword.mode, keyword.method) == ("keyword", "bm25")
    # BM25 ORs the query's lexemes: "ACC-1234" is 'acc-1234', 'acc' and '1234', so other events with an account
    # match on 'acc' too, ranked below the one event that holds all three.
    assert [account in h.fields["text"] for h in keyword.hits][:1] == [True]
    assert sum(account in h.fields["text"] for h in keyword.hits) == 1
    assert len({h.score for h in keyword.hits[:2]}) == 2
    dense = _run(demo_assistant, plan, "dense")
    assert keyword.hits[0].id not in _ids(dense)  # not in the 20 nearest (it is 77th)
    hybrid = _run(demo_assistant, plan, "hybrid")
    assert _ids(hybrid)[0] == keyword.hits[0].id  # first on one side and among the other's candidates


def test_zero_keyword_weight_gives_the_dense_order(demo_assistant: RiskAssistant) -> None:
    plan = _fraud_plan(demo_assistant, ["Harbor"])
    dense = _run(demo_assistant, plan, "dense")
    hybrid = _run(demo_assistant, plan, "hybrid", fusion=Fusion(keyword_weight=0.0))
    assert _ids(hybrid) == _ids(dense)
    weighted = _run(demo_assistant, plan, "hybrid")
    assert _ids(weighted) != _ids(dense)  # the keyword side does move events when it has weight


@pytest.mark.parametrize("keywords", [["the", "and", "of"], ["!!", "--"], [""]])
def test_keywords_without_lexemes_fall_back_to_dense_ranks(demo_assistant: RiskAssistant,
                                                           keywords: list[str]) -> None:
    plan = _fraud_plan(demo_assistant, keywords)
    dense = _run(demo_assistant, plan, "dense")
    hybrid = _run(demo_assistant, plan, "hybrid")
    assert _ids(hybrid) == _ids(dense) and not any(r.keyword_rank for r in hybrid.ranks.values())
    keyword = _run(demo_assistant, plan, "keyword")
    assert keyword.mode == "dense" and _ids(keyword) == _ids(dense)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_keywords_neither_error_nor_change_the_table(small: Database, embedder: Embedder,
                                                             hostile: str) -> None:
    before = small.execute("SELECT count(*), sum(hashtext(text)) FROM risk_events")[0]
    for mode in MODES:
        for plan in (SMALL_PLAN.model_copy(update={"keywords": [hostile]}),
                     SMALL_PLAN.model_copy(update={"keywords": [], "query": hostile})):
            retrieve(small, embedder, plan, mode=mode)
            retrieve(small, embedder, plan, mode=mode, exact_below=0)
    after = small.execute("SELECT count(*), sum(hashtext(text)) FROM risk_events")[0]
    assert before == after and after is not None and after[0] == len(SMALL_ROWS)


@pytest.mark.parametrize("kind", ["event", "entity"])
def test_every_mode_excludes_the_like_targets_own_events(small: Database, embedder: Embedder,
                                                         kind: Literal["event", "entity"]) -> None:
    row = small.execute("SELECT id FROM risk_events WHERE source_id = 'both'")[0]
    assert row is not None
    target = LikeTarget(kind=kind, value=str(row[0]) if kind == "event" else "ACC-1")
    plan = SMALL_PLAN.model_copy(update={"like": target})
    for mode in MODES:
        found = retrieve(small, embedder, plan, mode=mode)
        assert found.seed_ids == [row[0]] and found.hits and row[0] not in _ids(found)


def test_ivf_hybrid_search_agrees_with_exact_hybrid_search(demo_assistant: RiskAssistant) -> None:
    plan = _fraud_plan(demo_assistant, ["Harbor"])
    exact = _run(demo_assistant, plan, "hybrid", exact_below=10**9)
    with vector_indexed(demo_assistant, lists=20):
        approx = _run(demo_assistant, plan, "hybrid", exact_below=0)
    assert (exact.method, approx.method) == ("exact", "ivf") and exact.matched == approx.matched
    assert len(exact.hits) == 20
    overlap = set(_ids(exact)) & set(_ids(approx))
    assert len(overlap) >= 0.9 * len(exact.hits)


def test_settings_choose_the_fusion() -> None:
    settings = settings_for("postgresql://unused", Path("."), rrf_k=5, vector_weight=2.0, keyword_weight=0.5)
    assert settings.retrieval_mode == "hybrid"
    assert Fusion.from_settings(settings) == Fusion(k=5, vector_weight=2.0, keyword_weight=0.5)
