"""Follow-ups refine the previous plan; "new question" starts over."""

from __future__ import annotations

import datetime as dt

from assistant.api import RiskAssistant
from assistant.conversation import is_follow_up, refine
from assistant.models import Filter, QueryPlan

from .conftest import AS_OF

FIRST = "Q4 2025 card-not-present fraud patterns"


def _filters(plan: QueryPlan) -> set[tuple[str, str, str]]:
    return {(f.field, f.op, str(f.value)) for f in plan.filters}


Q4_2025 = {("occurred_at", "gte", "2025-10-01"), ("occurred_at", "lt", "2026-01-01")}
CNP = {("category", "eq", "fraud_alert"), ("subcategory", "eq", "card_not_present")}


def test_only_high_severity_narrows_the_previous_plan(demo_assistant: RiskAssistant) -> None:
    chat = demo_assistant.conversation()
    chat.ask(FIRST, as_of=AS_OF)
    answer = chat.ask("only high severity", as_of=AS_OF)
    assert _filters(answer.plan) == Q4_2025 | CNP | {("severity", "eq", "high")}
    assert answer.plan.query == "card-not-present fraud patterns"
    assert answer.events and {e.fields["severity"] for e in answer.events} == {"high"}
    assert any("follow-up" in note for note in answer.plan.notes)


def test_what_about_q3_moves_the_window_within_the_same_year(demo_assistant: RiskAssistant) -> None:
    chat = demo_assistant.conversation()
    chat.ask(FIRST, as_of=AS_OF)
    answer = chat.ask("what about Q3?", as_of=AS_OF)
    assert _filters(answer.plan) == CNP | {("occurred_at", "gte", "2025-07-01"), ("occurred_at", "lt", "2025-10-01")}
    assert all(e.fields["occurred_at"][:7] in ("2025-07", "2025-08", "2025-09") for e in answer.events)


def test_exclude_an_account_keeps_everything_else(demo_assistant: RiskAssistant) -> None:
    chat = demo_assistant.conversation()
    first = chat.ask(FIRST, as_of=AS_OF)
    account = first.events[0].fields["entity_id"]
    answer = chat.ask(f"exclude account {account}", as_of=AS_OF)
    assert _filters(answer.plan) == Q4_2025 | CNP | {("entity_id", "ne", account)}
    assert account not in {e.fields["entity_id"] for e in answer.events}


def test_new_question_starts_fresh(demo_assistant: RiskAssistant) -> None:
    chat = demo_assistant.conversation()
    chat.ask(FIRST, as_of=AS_OF)
    answer = chat.ask("new question: chargebacks in 2026", as_of=AS_OF)
    assert _filters(answer.plan) == {("occurred_at", "gte", "2026-01-01"), ("occurred_at", "lt", "2027-01-01"),
                                     ("category", "eq", "chargeback")}
    unrelated = chat.ask("critical security incidents", as_of=AS_OF)  # not phrased as a follow-up
    assert ("category", "eq", "chargeback") not in _filters(unrelated.plan)


def test_refine_replaces_constrained_fields_and_adds_exclusions() -> None:
    day = dt.date(2026, 1, 1)
    previous = QueryPlan(question="q1", query="fraud", as_of=day, k=7,
                         filters=[Filter(field="severity", op="eq", value="low"),
                                  Filter(field="category", op="eq", value="fraud_alert")])
    follow = QueryPlan(question="only critical, excluding ACC-1", query="x", as_of=day,
                       filters=[Filter(field="severity", op="eq", value="critical"),
                                Filter(field="entity_id", op="ne", value="ACC-1")])
    merged = refine(previous, follow)
    assert _filters(merged) == {("category", "eq", "fraud_alert"), ("severity", "eq", "critical"),
                                ("entity_id", "ne", "ACC-1")}
    assert (merged.query, merged.k, merged.question) == ("fraud", 7, "only critical, excluding ACC-1")


def test_follow_up_cues() -> None:
    for text in ("only high severity", "what about Q3?", "exclude account ACC-1", "and only critical",
                 "how about last quarter", "but without chargebacks"):
        assert is_follow_up(text), text
    for text in ("Q4 2025 fraud", "critical security incidents", "show me chargebacks"):
        assert not is_follow_up(text), text
