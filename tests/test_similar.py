""""Like X": an event's vector or an entity's centroid in the filter window; matches say what they share."""

from __future__ import annotations

from assistant.api import RiskAssistant
from assistant.demo import DemoSet
from assistant.models import Filter, LikeTarget, QueryPlan
from assistant.retrieve import retrieve
from assistant.similar import profile_of, shared_with

from .conftest import AS_OF

Q4_2025 = [Filter(field="occurred_at", op="gte", value="2025-10-01"),
           Filter(field="occurred_at", op="lt", value="2026-01-01")]


def _id_of(assistant: RiskAssistant, source_id: str) -> int:
    row = assistant.db.execute("SELECT id FROM risk_events WHERE source_id = %s", [source_id])[0]
    assert row is not None
    return int(row[0])


def test_like_an_event_excludes_it_and_names_what_matches_share(demo_assistant: RiskAssistant,
                                                                demo: DemoSet) -> None:
    target = _id_of(demo_assistant, sorted(demo.planted["cnp_burst_q4_2025"].source_ids)[0])
    plan = demo_assistant.plan(f"cases like #{target}", as_of=AS_OF)
    assert plan.like == LikeTarget(kind="event", value=str(target))
    answer = demo_assistant.ask(plan.question, plan=plan)
    assert target not in {e.id for e in answer.events}
    top = sorted(answer.events, key=lambda e: -e.score)[:10]
    assert all(e.shared for e in top)
    assert sum(e.shared.get("attributes.merchant_id") == "MER-4417" for e in top) >= 5


def test_like_an_entity_uses_its_events_inside_the_filter_window(demo_assistant: RiskAssistant) -> None:
    row = demo_assistant.db.execute(
        "SELECT entity_id FROM risk_events WHERE entity_id IS NOT NULL GROUP BY entity_id "
        "HAVING count(*) FILTER (WHERE occurred_at >= '2025-10-01' AND occurred_at < '2026-01-01') >= 1 "
        "AND count(*) FILTER (WHERE occurred_at < '2025-10-01') >= 1 ORDER BY count(*) DESC LIMIT 1")[0]
    assert row is not None
    account = row[0]
    in_window = {r[0] for r in demo_assistant.db.execute(
        "SELECT id FROM risk_events WHERE entity_id = %s AND occurred_at >= '2025-10-01' "
        "AND occurred_at < '2026-01-01'", [account])}
    plan = QueryPlan(question=f"like {account}", query="x", as_of=AS_OF, filters=Q4_2025,
                     like=LikeTarget(kind="entity", value=account))
    found = retrieve(demo_assistant.db, demo_assistant.embedder, plan)
    assert set(found.seed_ids) == in_window and not found.notes
    assert all(h.fields["entity_id"] != account for h in found.hits)
    assert all("2025-10" <= h.fields["occurred_at"][:7] <= "2025-12" for h in found.hits)


def test_an_entity_without_events_in_the_window_falls_back_with_a_note(demo_assistant: RiskAssistant) -> None:
    row = demo_assistant.db.execute(
        "SELECT entity_id FROM risk_events WHERE entity_id IS NOT NULL GROUP BY entity_id "
        "HAVING max(occurred_at) < '2025-10-01' LIMIT 1")[0]
    assert row is not None
    plan = QueryPlan(question="like", query="x", as_of=AS_OF, filters=Q4_2025,
                     like=LikeTarget(kind="entity", value=row[0]))
    found = retrieve(demo_assistant.db, demo_assistant.embedder, plan)
    assert found.seed_ids and found.hits
    assert any("no events inside the filters" in note for note in found.notes)


def test_profile_keeps_what_most_target_events_share() -> None:
    events = [{"category": "fraud_alert", "severity": "high", "attributes": {"merchant_id": "M1"}},
              {"category": "fraud_alert", "severity": "low", "attributes": {"merchant_id": "M1"}},
              {"category": "chargeback", "severity": "high", "attributes": {"merchant_id": "M1", "x": [1]}}]
    profile = profile_of(events)
    assert profile == {"category": "fraud_alert", "severity": "high", "attributes.merchant_id": "M1"}
    match = {"category": "fraud_alert", "severity": "low", "attributes": {"merchant_id": "M1"}}
    assert shared_with(match, profile) == {"category": "fraud_alert", "attributes.merchant_id": "M1"}
