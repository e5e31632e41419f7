"""The web UI: answers as chat text, plans as markdown, events as table rows, and the app over real data."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal

import gradio as gr
import pytest

from assistant.api import RiskAssistant
from assistant.models import (
    AmountStats,
    Answer,
    EventHit,
    Facts,
    Filter,
    LikeTarget,
    Note,
    QueryPlan,
)
from assistant.ui.app import EXAMPLE_QUESTIONS, Handlers, build_app, parse_as_of, render_outputs
from assistant.ui.render import (
    EVENT_COLUMNS,
    event_row,
    event_rows,
    format_amount,
    format_filter,
    format_plan,
    format_reply,
    format_status,
    redact,
)

from .conftest import AS_OF


def hit(event_id: int, score: float, **fields: object) -> EventHit:
    base: dict[str, object] = {
        "occurred_at": datetime(2025, 11, 3, 14, 5, tzinfo=UTC), "category": "fraud_alert",
        "subcategory": "card_not_present", "severity": "high", "entity_id": "C-1001",
        "entity_name": "Ada Lovelace", "amount": Decimal("1234.5"), "currency": "USD",
        "status": "open", "title": f"CNP fraud {event_id}", "text": "Card used online.", "attributes": {},
    }
    return EventHit(id=event_id, score=score, fields={**base, **fields})


@pytest.fixture
def answer() -> Answer:
    plan = QueryPlan(
        question="Q4 2025 card-not-present fraud patterns",
        query="card-not-present fraud",
        filters=[
            Filter(field="category", op="eq", value="fraud_alert"),
            Filter(field="occurred_at", op="between", value=["2025-10-01", "2026-01-01"]),
            Filter(field="severity", op="in", value=["high", "critical"]),
        ],
        keywords=["card-not-present"],
        k=20,
        as_of=date(2026, 3, 15),
        notes=["Q4 2025 read as 2025-10-01 to 2025-12-31"],
    )
    amounts = AmountStats(scope="evidence", currency="USD", events=2, total=Decimal("2469"),
                          median=Decimal("1234.5"), min=Decimal("1234.5"), max=Decimal("1234.5"))
    return Answer(
        question=plan.question,
        plan=plan,
        events=[hit(11, 0.91), hit(22, 0.87), hit(33, 0.80, amount=None, entity_name=None)],
        facts=Facts(matched=134, evidence=3, amounts=[amounts]),
        summary="Card-not-present fraud clusters online [#33] and at one merchant [#11].",
        citations=[33, 11, 999],
        mode="offline",
        notes=[Note(kind="planner", text="the LLM planner failed; the deterministic plan ran")],
    )


def test_reply_is_summary_then_provenance_line(answer: Answer) -> None:
    reply = format_reply(answer)
    # The summary follows the offline notice, escaped for markdown, its citations kept visible.
    assert "Card-not-present fraud clusters online **\\[#33\\]**" in reply
    assert reply.index("no LLM") < reply.index("Card-not")
    assert reply.splitlines()[-1] == f"*mode: offline · answer {answer.id[:8]}*"
    assert "134 events match; the themes and listed events are drawn from the 3 best-ranked" in reply


def test_status_line_explains_offline_mode() -> None:
    line = format_status(3000, "offline")
    assert "**3,000** events loaded" in line
    assert "no LLM configured — answers are computed pattern reports" in line
    assert "event count unavailable" in format_status(None, "llm")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (Filter(field="category", op="eq", value="aml_alert"), "`category` = `aml_alert`"),
        (Filter(field="amount", op="lt", value=10000), "`amount` < `10000`"),
        (Filter(field="severity", op="in", value=["high", "critical"]), "`severity` in `high`, `critical`"),
        (
            Filter(field="occurred_at", op="between", value=["2026-03-01", "2026-04-01"]),
            "`occurred_at` between `2026-03-01` and `2026-04-01`",
        ),
        (Filter(field="amount", op="exists"), "`amount` exists"),
        (Filter(field="title", op="contains", value="a`b"), "`title` contains `aʼb`"),
    ],
)
def test_filter_reads_as_field_op_value(item: Filter, expected: str) -> None:
    assert format_filter(item) == expected


def test_plan_markdown_shows_filters_query_as_of_and_notes(answer: Answer) -> None:
    text = format_plan(answer.plan, answer.notes)
    assert "- `category` = `fraud_alert`" in text
    assert "- `occurred_at` between `2025-10-01` and `2026-01-01`" in text
    assert "- **Query text:** `card-not-present fraud`" in text
    assert "- **As of:** 2026-03-15 · **k:** 20" in text
    assert "- Q4 2025 read as 2025-10-01 to 2025-12-31" in text
    assert "- the LLM planner failed; the deterministic plan ran" in text


def test_plan_without_filters_says_none_and_shows_like_seed() -> None:
    plan = QueryPlan(
        question="like event 42", query="like event 42", like=LikeTarget(kind="event", value="42"),
        as_of=date(2026, 1, 1),
    )
    text = format_plan(plan)
    assert "- *(none)*" in text
    assert "- **Like event:** `42`" in text
    assert "**Notes**" not in text


def test_event_rows_put_cited_events_first_in_citation_order(answer: Answer) -> None:
    rows = event_rows(answer)
    assert [row[0] for row in rows] == [33, 11, 22]
    assert all(len(row) == len(EVENT_COLUMNS) for row in rows)


def test_event_row_formats_date_entity_and_amount() -> None:
    row = dict(zip(EVENT_COLUMNS, event_row(hit(7, 0.123456)), strict=True))
    assert row == {
        "id": 7, "score": 0.123, "date": "2025-11-03", "category": "fraud_alert",
        "subcategory": "card_not_present", "severity": "high", "entity": "Ada Lovelace (C-1001)",
        "amount": "1,234.50 USD", "title": "CNP fraud 7",
    }


def test_event_row_leaves_missing_fields_blank() -> None:
    sparse = EventHit(id=8, score=0.5, fields={"occurred_at": "2026-02-01T09:00:00+00:00", "category": "x"})
    assert event_row(sparse) == [8, 0.5, "2026-02-01", "x", "", "", "", "", ""]
    assert format_amount(9999.999, None) == "10,000.00"


def test_redact_scrubs_secret_values() -> None:
    message = "could not connect to postgresql://u:hunter2@db/risk"
    assert redact(message, ["postgresql://u:hunter2@db/risk", ""]) == "could not connect to ***"


def test_as_of_is_optional_and_validated() -> None:
    assert parse_as_of("  ") is None
    assert parse_as_of("2026-03-31") == date(2026, 3, 31)
    with pytest.raises(gr.Error):
        parse_as_of("last tuesday")


def test_outputs_append_one_turn_and_serialise_the_plan(answer: Answer) -> None:
    earlier = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    history, cleared, plan_text, plan_json, table = render_outputs(answer, earlier)
    assert history[:2] == earlier
    assert history[2] == {"role": "user", "content": answer.question}
    assert history[3]["role"] == "assistant"
    assert history[3]["content"] == format_reply(answer)
    assert cleared == ""
    assert plan_text == format_plan(answer.plan, answer.notes)
    assert json.loads(json.dumps(plan_json))["filters"][0]["field"] == "category"
    assert "2 cited first, then 1 more retrieved" in table.label


@pytest.fixture(scope="module")
def real_answer(demo_assistant: RiskAssistant) -> Answer:
    return demo_assistant.ask(EXAMPLE_QUESTIONS[0], as_of=AS_OF)


def test_real_answer_renders_with_cited_events_first(real_answer: Answer) -> None:
    assert real_answer.citations, "the offline report cites events"
    rows = event_rows(real_answer)
    assert len(rows) == len(real_answer.events)
    cited = [event_id for event_id in dict.fromkeys(real_answer.citations)
             if event_id in {hit.id for hit in real_answer.events}]
    assert [row[0] for row in rows[: len(cited)]] == cited
    assert all(row[2].startswith("2025-1") and row[3] == "fraud_alert" for row in rows)
    reply = format_reply(real_answer)
    assert reply.splitlines()[-1] == f"*mode: offline · answer {real_answer.id[:8]}*"
    assert f"{real_answer.facts.matched:,} events match; the themes and listed events are drawn from the " in reply


def test_real_plan_lists_every_filter(real_answer: Answer) -> None:
    text = format_plan(real_answer.plan, real_answer.notes)
    assert real_answer.plan.filters
    assert all(f"- {format_filter(item)}" in text for item in real_answer.plan.filters)
    assert f"**As of:** {AS_OF.isoformat()}" in text


def test_app_builds_over_a_real_assistant(demo_assistant: RiskAssistant) -> None:
    app = build_app(demo_assistant)
    assert isinstance(app, gr.Blocks)
    status = Handlers(demo_assistant).status()
    assert f"**{demo_assistant.count_events():,}** events loaded" in status
    assert "mode: **offline**" in status


def test_handler_answers_and_turns_assistant_errors_into_gr_error(demo_assistant: RiskAssistant) -> None:
    handlers = Handlers(demo_assistant)
    history, cleared, plan_text, _, _ = handlers.ask(EXAMPLE_QUESTIONS[3], [], AS_OF.isoformat())
    assert [message["role"] for message in history] == ["user", "assistant"]
    assert cleared == "" and "`category` = `aml_alert`" in plan_text
    # An unknown "like" target is a note, and the question is still answered.
    history, _, plan_text, _, _ = handlers.ask("events like #999999", [], AS_OF.isoformat())
    assert history[-1]["role"] == "assistant" and "999999 is not a stored event id" in plan_text
    with pytest.raises(gr.Error, match="Type a question"):
        handlers.ask("   ", [], "")


def test_follow_up_in_the_chat_refines_the_plan_shown(demo_assistant: RiskAssistant) -> None:
    handlers = Handlers(demo_assistant)
    history, _, _, plan_json, _ = handlers.ask(EXAMPLE_QUESTIONS[0], [], AS_OF.isoformat())
    history, _, plan_md, refined, _ = handlers.ask("only high severity", history, AS_OF.isoformat(), plan_json)
    kept = {(f["field"], f["op"], f["value"]) for f in plan_json["filters"]}
    now = {(f["field"], f["op"], f["value"]) for f in refined["filters"]}
    assert now == kept | {("severity", "eq", "high")}
    assert len(history) == 4 and "severity" in plan_md
    fresh = handlers.ask("only high severity", [], AS_OF.isoformat(), None)[3]
    assert {(f["field"], f["op"], f["value"]) for f in fresh["filters"]} == {("severity", "eq", "high")}


def test_an_edited_plan_runs_exactly_and_bad_edits_are_refused(demo_assistant: RiskAssistant) -> None:
    handlers = Handlers(demo_assistant)
    _, _, _, plan_json, _ = handlers.ask(EXAMPLE_QUESTIONS[0], [], AS_OF.isoformat())
    edited = {**plan_json, "filters": [*plan_json["filters"], {"field": "severity", "op": "eq", "value": "critical"}]}
    _, _, _, ran, table = handlers.run_plan(json.dumps(edited), [])
    assert ran["filters"] == edited["filters"]
    column = table.value["headers"].index("severity")
    assert table.value["data"] and {row[column] for row in table.value["data"]} == {"critical"}
    with pytest.raises(gr.Error, match="not valid"):
        handlers.run_plan(json.dumps({**edited, "k": "many"}), [])
    with pytest.raises(gr.Error, match="unknown filter field"):
        handlers.run_plan(json.dumps({**edited, "filters": [{"field": "password", "op": "eq", "value": 1}]}), [])


def test_a_question_that_matches_nothing_is_relaxed_with_its_reason_shown(demo_assistant: RiskAssistant) -> None:
    handlers = Handlers(demo_assistant)
    history, _, plan_text, plan_json, _ = handlers.ask("structuring alerts at QuickShip Electronics in March 2026",
                                                        [], AS_OF.isoformat())
    shown = plan_text.replace("\\_", "_")  # markdown escapes underscores
    assert "left out attributes.merchant_name eq QuickShip Electronics" in shown and "**Suggestions**" in shown
    assert not any(f["field"] == "attributes.merchant_name" for f in plan_json["filters"])
    assert re.search(r"\b30 events match", history[-1]["content"])
