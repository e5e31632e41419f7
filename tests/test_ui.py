"""The web UI without a browser: the pure renderers, plan edits, exports, examples, and the handlers' streams
over the real demo assistant (tests/test_ui_browser.py drives the page itself)."""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from assistant.api import RiskAssistant
from assistant.config import Settings
from assistant.errors import redact
from assistant.models import (
    AmountStats,
    Anomaly,
    Answer,
    Breakdown,
    Count,
    EventHit,
    Facts,
    Filter,
    LikeTarget,
    Note,
    QueryPlan,
    Theme,
    ThemeSet,
)
from assistant.ui.app import build_app
from assistant.ui.examples import Kind, example_questions, phrase_examples, quarter_end, quarter_label
from assistant.ui.export import csv_cell, evidence_markdown, write_exports
from assistant.ui.handlers import Handlers, parse_as_of
from assistant.ui.layout import EVENT_HINT, View, build_view
from assistant.ui.panels import anomalies_markdown, chart_frame, event_markdown, themes_markdown
from assistant.ui.plan_edit import (
    date_range,
    field_values,
    keep_chips,
    parse_day,
    plan_chips,
    with_date_range,
    with_field_values,
)
from assistant.ui.render import (
    EVENT_COLUMNS,
    event_row,
    event_rows,
    format_amount,
    format_draft,
    format_filter,
    format_plan,
    format_reply,
    format_status,
    ordered_hits,
    table_columns,
    table_rows,
)
from assistant.ui.session import Session
from assistant.ui.table import evidence_html

from .conftest import AS_OF

HOSTILE = "<script>alert(1)</script> [click me](http://evil.example) ![x](http://evil.example/x.png)"


class TableParser(HTMLParser):
    """Reads the evidence table's HTML back: its headers, and per row its id, cited mark, cell texts, classes
    and sort keys; and every tag it holds."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.rows: list[dict[str, Any]] = []
        self.tags: set[str] = set()
        self.cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        found = dict(attrs)
        if tag == "tr" and "data-id" in found:
            self.rows.append({"id": found["data-id"], "cited": found.get("class") == "cited", "cells": [],
                              "classes": [], "sort": []})
        elif tag in ("th", "td"):
            self.cell = ""
            if tag == "td":
                self.rows[-1]["classes"].append(found.get("class") or "")
                self.rows[-1]["sort"].append(found.get("data-sort"))

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell += data

    def handle_endtag(self, tag: str) -> None:
        if tag in ("th", "td") and self.cell is not None:
            (self.headers if tag == "th" else self.rows[-1]["cells"]).append(self.cell)
            self.cell = None

    @classmethod
    def tags_of(cls, html: str) -> set[str]:
        """Every tag in a piece of HTML."""
        parser = cls()
        parser.feed(html)
        return parser.tags


def parse_table(html: str) -> tuple[list[str], list[dict[str, Any]]]:
    """The headers and rows of the evidence table's HTML."""
    parser = TableParser()
    parser.feed(html)
    return parser.headers, parser.rows


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
            Filter(field="occurred_at", op="gte", value="2025-10-01"),
            Filter(field="occurred_at", op="lt", value="2026-01-01"),
            Filter(field="category", op="eq", value="fraud_alert"),
            Filter(field="severity", op="in", value=["high", "critical"]),
        ],
        keywords=["card-not-present"], k=20, as_of=date(2026, 3, 15),
        notes=["Q4 2025 read as 2025-10-01 to 2025-12-31"],
    )
    amounts = AmountStats(scope="evidence", currency="USD", events=2, total=Decimal("2469"),
                          median=Decimal("1234.5"), min=Decimal("1234.5"), max=Decimal("1234.5"))
    months = Breakdown(dimension="month_category", scope="matched", total=7, counts=[
        Count(value="2025-10 fraud_alert", count=3), Count(value="2025-11 fraud_alert", count=4)])
    return Answer(
        question=plan.question, plan=plan,
        events=[hit(11, 0.91), hit(22, 0.87), hit(33, 0.80, amount=None, entity_name=None, title="=HYPERLINK(1)")],
        facts=Facts(matched=134, evidence=3, amounts=[amounts], breakdowns=[months]),
        summary="Card-not-present fraud clusters online [#33] and at one merchant [#11].",
        citations=[33, 11, 999], mode="offline",
        notes=[Note(kind="planner", text="the LLM planner failed; the deterministic plan ran")],
    )


# --- chat text, plan markdown, table rows ---------------------------------------------------------------------

def test_reply_is_summary_then_provenance_line(answer: Answer) -> None:
    reply = format_reply(answer)
    assert "Card-not-present fraud clusters online **\\[#33\\]**" in reply
    assert reply.index("no LLM") < reply.index("Card-not")
    assert reply.splitlines()[-1] == f"*mode: offline · answer {answer.id[:8]}*"


def test_the_draft_shows_the_summary_so_far_escaped_and_the_running_stage() -> None:
    assert format_draft("", "Retrieving the evidence") == "*Retrieving the evidence…*"
    draft = format_draft(f"Lead [#7]\n{HOSTILE}\n", "Writing the summary")
    assert draft.startswith("Lead **\\[#7\\]**") and draft.endswith("*Writing the summary…*")
    assert "<script>" not in draft and "](http" not in draft


def test_status_line_explains_offline_mode() -> None:
    assert "**3,000** events loaded" in format_status(3000, "offline")
    assert "event count unavailable" in format_status(None, "llm")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        (Filter(field="category", op="eq", value="aml_alert"), "`category` = `aml_alert`"),
        (Filter(field="severity", op="in", value=["high", "critical"]), "`severity` in `high`, `critical`"),
        (Filter(field="occurred_at", op="between", value=["2026-03-01", "2026-04-01"]),
         "`occurred_at` between `2026-03-01` and `2026-04-01`"),
        (Filter(field="amount", op="exists"), "`amount` exists"),
        (Filter(field="title", op="contains", value="a`b"), "`title` contains `aʼb`"),
    ],
)
def test_filter_reads_as_field_op_value(item: Filter, expected: str) -> None:
    assert format_filter(item) == expected


def test_plan_markdown_shows_filters_query_as_of_and_escaped_notes(answer: Answer) -> None:
    plan = answer.plan.model_copy(update={"notes": [*answer.plan.notes, f"no event has {HOSTILE}"]})
    text = format_plan(plan, answer.notes)
    assert "- `category` = `fraud_alert`" in text and "- **As of:** 2026-03-15 · **k:** 20" in text
    assert "- the LLM planner failed; the deterministic plan ran" in text
    assert "<script>" not in text and "](http" not in text


def test_plan_without_filters_says_none_and_shows_like_seed() -> None:
    plan = QueryPlan(question="like event 42", query="like event 42", like=LikeTarget(kind="event", value="42"),
                     as_of=date(2026, 1, 1))
    assert "- *(none)*" in format_plan(plan) and "- **Like event:** `42`" in format_plan(plan)


def test_event_rows_put_cited_events_first_and_sort_amounts_as_numbers(answer: Answer) -> None:
    rows = event_rows(answer)
    assert [(row[0], row[1]) for row in rows] == [(33, "✓"), (11, "✓"), (22, "")]
    assert all(len(row) == len(EVENT_COLUMNS) for row in rows)
    assert dict(zip(EVENT_COLUMNS, rows[1], strict=True)) == {
        "id": 11, "cited": "✓", "score": 0.91, "date": "2025-11-03", "category": "fraud_alert",
        "subcategory": "card_not_present", "severity": "high", "entity": "Ada Lovelace (C-1001)",
        "amount": 1234.5, "currency": "USD", "title": "CNP fraud 11",
    }
    sparse = EventHit(id=8, score=0.5, fields={"occurred_at": "2026-02-01T09:00:00+00:00", "category": "x"})
    assert event_row(sparse) == [8, "", 0.5, "2026-02-01", "x", "", "", "", None, "", ""]
    assert format_amount(9999.999, None) == "10,000.00"


def test_the_shared_fields_column_appears_only_for_like_answers() -> None:
    plain = [hit(1, 0.9)]
    like = [hit(1, 0.9).model_copy(update={"shared": {"category": "fraud_alert", "attributes.channel": "web"}})]
    assert "shares with target" not in [name for name, _ in table_columns(plain)]
    names = [name for name, _ in table_columns(like)]
    assert names[-2:] == ["shares with target", "title"]
    assert table_rows(like, set())[0][-2] == "category, channel"
    headers, rows = parse_table(evidence_html(like, set(), "1 event"))
    assert headers[-2:] == ["shares with target", "title"] and rows[0]["cells"][-2] == "category, channel"


def test_the_evidence_table_lists_cited_rows_first_with_numbers_right_aligned(answer: Answer) -> None:
    hits = ordered_hits(answer)
    headers, rows = parse_table(evidence_html(hits, {33, 11}, "134 events match"))
    assert headers == list(EVENT_COLUMNS)
    assert [(row["id"], row["cited"], row["cells"][1]) for row in rows] == [
        ("33", True, "✓"), ("11", True, "✓"), ("22", False, "")]
    amount = EVENT_COLUMNS.index("amount")
    assert rows[1]["cells"][amount] == "1,234.50" and rows[1]["sort"][amount] == "1234.5"
    assert rows[0]["cells"][amount] == "" and rows[0]["sort"][amount] == ""  # blank, sorted last by the page
    assert rows[1]["classes"][amount] == "num" and rows[1]["classes"][0] == "num"
    assert rows[0]["cells"][-1] == "=HYPERLINK(1)"


def test_event_text_in_the_evidence_table_is_text_never_markup() -> None:
    hostile = "<img src=x onerror=alert(1)> [link](http://evil)"
    html = evidence_html([hit(1, 0.5, title=hostile, entity_name=HOSTILE, category='"><b>x</b>')], {1}, hostile)
    _, rows = parse_table(html)
    assert rows[0]["cells"][-1] == hostile and rows[0]["cells"][4] == '"><b>x</b>'
    assert TableParser.tags_of(html) <= {"p", "strong", "div", "table", "thead", "tbody", "tr", "th", "td"}
    assert "href" not in html and "onerror=alert(1)&gt;" in html


def test_redact_scrubs_secret_values() -> None:
    message = "could not connect to postgresql://u:hunter2@db/risk"
    assert redact(message, ["postgresql://u:hunter2@db/risk", ""]) == "could not connect to ***"


def test_as_of_is_optional_and_validated() -> None:
    assert parse_as_of("  ") is None and parse_as_of("2026-03-31") == date(2026, 3, 31)
    with pytest.raises(ValueError, match="not a date; use YYYY-MM-DD"):
        parse_as_of("last tuesday")


# --- chips and plan edits -------------------------------------------------------------------------------------

def test_chips_show_the_date_range_once_and_each_other_filter(answer: Answer) -> None:
    chips = plan_chips(answer.plan)
    assert [c.label for c in chips] == ["date 2025-10-01 → 2025-12-31", "category = fraud_alert",
                                        "severity in high, critical"]
    assert chips[0].indices == (0, 1)


def test_removing_a_chip_drops_exactly_its_filters(answer: Answer) -> None:
    labels = [c.label for c in plan_chips(answer.plan)]
    fewer = keep_chips(answer.plan, [labels[0], labels[2]])
    assert fewer.filters == [f for f in answer.plan.filters if f.field != "category"]
    assert fewer.notes[-1] == "edited on the page: removed category = fraud_alert"
    undated = keep_chips(answer.plan, labels[1:])
    assert [f.field for f in undated.filters] == ["category", "severity"]


def test_the_date_range_is_read_and_replaced_with_both_days_included(answer: Answer) -> None:
    assert date_range(answer.plan) == (date(2025, 10, 1), date(2025, 12, 31))
    moved = with_date_range(answer.plan, date(2025, 11, 1), date(2025, 11, 30))
    dates = [(f.op, f.value) for f in moved.filters if f.field == "occurred_at"]
    assert dates == [("gte", "2025-11-01"), ("lt", "2025-12-01")]
    assert date_range(with_date_range(answer.plan, None, date(2025, 11, 30))) == (None, date(2025, 11, 30))
    with pytest.raises(ValueError, match="before it starts"):
        with_date_range(answer.plan, date(2025, 12, 1), date(2025, 11, 1))
    between = answer.plan.model_copy(update={"filters": [
        Filter(field="occurred_at", op="between", value=["2026-03-01", "2026-03-31"])]})
    assert date_range(between) == (date(2026, 3, 1), date(2026, 3, 31))


def test_values_chosen_replace_the_fields_filters(answer: Answer) -> None:
    assert field_values(answer.plan, "severity") == ["high", "critical"]
    one = with_field_values(answer.plan, "severity", ["critical"])
    assert [f for f in one.filters if f.field == "severity"] == [Filter(field="severity", op="eq", value="critical")]
    two = with_field_values(answer.plan, "category", ["fraud_alert", "aml_alert"])
    assert Filter(field="category", op="in", value=["fraud_alert", "aml_alert"]) in two.filters
    assert not any(f.field == "severity" for f in with_field_values(answer.plan, "severity", []).filters)


def test_date_picker_values_are_read_as_days() -> None:
    assert parse_day("") is None and parse_day(None) is None
    assert parse_day("2026-03-01") == parse_day("2026-03-01 00:00:00") == date(2026, 3, 1)
    assert parse_day(dt.datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()) == date(2026, 3, 1)


# --- panels ---------------------------------------------------------------------------------------------------

def test_the_chart_counts_every_matching_event_by_month_and_category(answer: Answer) -> None:
    frame = chart_frame(answer.facts)
    assert frame.to_dict("records") == [{"month": "2025-10", "category": "fraud_alert", "events": 3},
                                        {"month": "2025-11", "category": "fraud_alert", "events": 4}]
    spaced = Facts(matched=2, evidence=2, breakdowns=[Breakdown(dimension="month_category", scope="matched", total=2,
                   counts=[Count(value="2020-01 Credit card or prepaid card", count=2)])])
    assert chart_frame(spaced)["category"].tolist() == ["Credit card or prepaid card"]
    assert chart_frame(Facts(matched=0, evidence=0)).empty


def test_themes_and_anomalies_show_labels_sizes_and_reasons_escaped() -> None:
    theme = Theme(id=1, label=f"online / {HOSTILE}", terms=["online"], size=12, share=0.4, event_ids=[1, 2],
                  representative_ids=[2, 1], dominant=[Count(value="channel = online", count=11)])
    text = themes_markdown(ThemeSet(method="hdbscan", themes=[theme], unassigned=3))
    assert "— 12 events (40%)" in text and "typical: #2 #1" in text and "3 events fit no theme" in text
    assert "<script>" not in text and "](http" not in text
    assert "too few" in themes_markdown(ThemeSet(method="none"))
    unusual = anomalies_markdown([Anomaly(event_id=5, kind="amount", score=4.2, reason=f"amount {HOSTILE}"),
                                  Anomaly(event_id=6, kind="outlier", score=9.0, reason="far from every theme")])
    assert unusual.index("#6") < unusual.index("#5") and "unusual amount (score 4.2)" in unusual
    assert "<script>" not in unusual and "](http" not in unusual


def test_an_event_in_full_never_renders_its_text_as_markup() -> None:
    event = {"id": 9, "title": HOSTILE, "text": f"line one\n{HOSTILE}", "occurred_at": datetime(2026, 1, 2, tzinfo=UTC),
             "category": "fraud_alert", "amount": Decimal("12.5"), "currency": "USD",
             "attributes": {"merchant|name": "A|B"}}
    text = event_markdown(event)
    assert text.startswith("### #9 · ") and "| occurred_at | 2026-01-02 |" in text and "| amount | 12.50 USD |" in text
    assert "<script>" not in text and "](http" not in text and "A\\|B" in text


# --- exports --------------------------------------------------------------------------------------------------

def test_exports_write_the_evidence_rows_safely(answer: Answer, tmp_path: Path) -> None:
    files = write_exports(answer, tmp_path)
    with files.evidence_csv.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["id"] for r in rows] == ["33", "11", "22"] and rows[0]["cited"] == "yes"
    assert rows[0]["title"] == "'=HYPERLINK(1)"  # a spreadsheet would run it as a formula
    assert rows[1]["amount"] == "1234.5" and rows[1]["text"] == "Card used online."
    assert csv_cell("-12.50") == "-12.50" and csv_cell("@SUM(A1)") == "'@SUM(A1)"
    table = evidence_markdown(answer)
    assert table.splitlines()[0].startswith("| id | cited |") and len(table.splitlines()) == 5
    report = files.answer_markdown.read_text(encoding="utf-8")
    assert report.startswith("# Q4 2025 card-not-present fraud patterns") and "## Evidence" in report


# --- example questions ----------------------------------------------------------------------------------------

def test_examples_are_phrased_from_the_commonest_kinds() -> None:
    latest = [Kind("fraud_alert", "card_not_present", 57, 27), Kind("aml_alert", "structuring", 25, 13)]
    year = [Kind("fraud_alert", "card_not_present", 200, 90), Kind("chargeback", None, 80, 0)]
    questions = phrase_examples((date(2026, 7, 1), latest), (date(2026, 4, 1), [Kind("complaint", "fees", 9, 0)]),
                                (2026, year))
    assert questions == ["card not present fraud alert events in Q3 2026",
                         "high or critical aml alert events in Q3 2026",
                         "chargeback trend in 2026", "fees complaint events in Q2 2026"]
    assert phrase_examples((date(2026, 7, 1), []), None, (2026, [])) == []
    assert quarter_label(date(2025, 10, 1)) == "Q4 2025" and quarter_end(date(2025, 10, 1)) == date(2026, 1, 1)


def test_every_example_drawn_from_the_demo_data_returns_events(demo_assistant: RiskAssistant) -> None:
    questions = example_questions(demo_assistant.db, today=AS_OF)
    assert len(questions) == 4 and questions[0].endswith("Q3 2026")  # the demo data ends in September 2026
    for question in questions:
        found = demo_assistant.ask(question, as_of=AS_OF)
        assert found.facts.matched > 0 and found.events, question
        assert any(f.field in ("category", "subcategory") for f in found.plan.filters), question
        assert not any(n.kind == "relaxed" for n in found.notes), question


# --- handlers over the real assistant -------------------------------------------------------------------------

@pytest.fixture
def ui(demo_assistant: RiskAssistant) -> Iterator[tuple[Handlers, View]]:
    with gr.Blocks():
        view = build_view()
    handlers = Handlers(demo_assistant, view)
    yield handlers, view


def final_reply(updates: list[dict[Any, Any]], view: View) -> str:
    return str([u[view.chat] for u in updates if view.chat in u][-1][-1]["content"])


def test_an_answer_streams_its_stages_in_order(ui: tuple[Handlers, View], demo_assistant: RiskAssistant) -> None:
    handlers, view = ui
    session = Session()
    updates = list(handlers.ask("Q4 2025 card-not-present fraud patterns", AS_OF.isoformat(), session, None))
    first = {component: next(i for i, u in enumerate(updates) if component in u)
             for component in (view.chips, view.table, view.chart, view.themes, *view.downloads)}
    finals = [i for i, u in enumerate(updates) if view.chat in u and "· answer " in u[view.chat][-1]["content"]]
    assert first[view.chips] < first[view.table] < first[view.chart] < first[view.themes] < finals[0]
    assert finals == [len(updates) - 1] and first[view.downloads[0]] == finals[0]
    tables = [u[view.table]["value"] for u in updates if view.table in u]
    assert len(tables) == 2 and 'class="cited"' not in tables[0]  # the evidence first, then the cited marks
    cited = demo_assistant.db.execute("SELECT cited_ids FROM answers ORDER BY asked_at DESC LIMIT 1")[0][0]
    _, rows = parse_table(tables[-1])
    ids = [int(r["id"]) for r in rows]
    assert cited and [i for i in ids if i in cited] == [i for i in dict.fromkeys(cited) if i in ids]
    assert {int(r["id"]) for r in rows if r["cited"]} == set(cited) & set(ids)
    assert all(r["cited"] for r in rows[: len(set(cited))]) and re.search(r"[0-9,]+ events match", tables[-1])
    assert [m["role"] for m in session.history] == ["user", "assistant"]
    recorded = demo_assistant.db.execute("SELECT id::text FROM answers ORDER BY asked_at DESC LIMIT 1")[0][0]
    assert session.answer_ids == {1: recorded} and recorded[:8] in final_reply(updates, view)
    assert session.last_plan is not None and session.last_plan.question.startswith("Q4 2025")


def test_follow_ups_refine_only_their_own_sessions_plan(ui: tuple[Handlers, View]) -> None:
    handlers, _ = ui
    mine, other = Session(), Session()
    list(handlers.ask("Q4 2025 card-not-present fraud patterns", AS_OF.isoformat(), mine, None))
    list(handlers.ask("only high severity", AS_OF.isoformat(), mine, None))
    list(handlers.ask("only high severity", AS_OF.isoformat(), other, None))
    assert mine.last_plan is not None and other.last_plan is not None
    assert {(f.field, f.value) for f in mine.last_plan.filters} >= {("category", "fraud_alert"), ("severity", "high")}
    assert {(f.field, f.value) for f in other.last_plan.filters} == {("severity", "high")}


def test_a_removed_chip_reruns_the_plan_with_one_filter_fewer(ui: tuple[Handlers, View],
                                                              demo_assistant: RiskAssistant) -> None:
    handlers, _ = ui
    session = Session()
    list(handlers.ask("high severity AML alerts in 2026", AS_OF.isoformat(), session, None))
    assert session.last_plan is not None
    before = session.last_plan.filters
    kept = [c.label for c in plan_chips(session.last_plan) if c.label != "severity = high"]
    list(handlers.remove_chip(kept, session, None))
    recorded = demo_assistant.db.execute("SELECT plan FROM answers ORDER BY asked_at DESC LIMIT 1")[0][0]
    assert recorded["filters"] == [f.model_dump(mode="json") for f in before if f.field != "severity"]
    assert len(session.history) == 4 and "removed severity = high" in session.history[2]["content"]


def test_errors_become_chat_messages_and_feedback_is_recorded(ui: tuple[Handlers, View],
                                                               demo_assistant: RiskAssistant) -> None:
    handlers, view = ui
    session = Session()
    bad = json.dumps({"question": "x", "query": "x", "as_of": "2026-01-01",
                      "filters": [{"field": "password", "op": "eq", "value": 1}]})
    updates = list(handlers.run_json(bad, session, None))
    assert final_reply(updates, view).startswith("**Could not answer:** unknown filter field")
    updates = list(handlers.run_json("{not json", session, None))
    assert "The edited plan is not valid" in final_reply(updates, view)
    updates = list(handlers.ask("aml alerts", "someday", session, None))
    assert "is not a date" in final_reply(updates, view) and "Traceback" not in final_reply(updates, view)
    list(handlers.ask("high severity AML alerts in 2026", AS_OF.isoformat(), session, None))
    index = len(session.history) - 1
    liked = gr.LikeData(None, {"index": index, "value": "", "liked": False})
    status = handlers.feedback("  too broad  ", session, liked, None)
    assert "thumbs down recorded with your comment" in status[view.feedback_status]
    rows = demo_assistant.db.execute("SELECT rating, comment, source FROM feedback WHERE answer_id = %s",
                                     (session.answer_ids[index],))
    assert rows == [("down", "too broad", "ui")]
    question = gr.LikeData(None, {"index": 0, "value": "", "liked": True})
    assert "Only answers" in handlers.feedback("", session, question, None)[view.feedback_status]


def test_secret_values_are_every_configured_secret(tmp_path: Path) -> None:
    settings = Settings(database_url="postgresql://risk:pg-pass-1@db.internal/risk", data_dir=tmp_path,
                        openai_api_key="sk-test-2", slack_bot_token="xoxb-test-3", slack_app_token="xapp-test-4",
                        slack_signing_secret="signing-5")  # type: ignore[arg-type]
    assert sorted(settings.secret_values()) == sorted([
        "postgresql://risk:pg-pass-1@db.internal/risk", "pg-pass-1", "sk-test-2", "xoxb-test-3", "xapp-test-4",
        "signing-5"])
    shown = redact("cannot reach postgresql://risk:pg-pass-1@db.internal/risk with sk-test-2; password pg-pass-1",
                   settings.secret_values())
    assert shown == "cannot reach *** with ***; password ***"


def test_an_event_opens_in_full_and_unknown_ids_say_so(ui: tuple[Handlers, View]) -> None:
    handlers, view = ui
    opened = handlers.open_event("#5", None)
    assert str(opened[view.event]).startswith("### #5 · ") and opened[view.event_id] == 5
    assert "No event has id 999999" in handlers.open_event(999999, None)[view.event]
    assert "is not an event id" in handlers.open_event("abc", None)[view.event]
    clicked = handlers.select_row(gr.EventData(view.table, {"event_id": "5"}), None)  # sent by the table's script
    assert clicked[view.event] == opened[view.event] and clicked[view.event_id] == 5 and view.tabs in clicked
    assert handlers.select_row(gr.EventData(view.table, {}), None) == {view.event: EVENT_HINT}


def test_the_app_builds_over_a_real_assistant(demo_assistant: RiskAssistant) -> None:
    app = build_app(demo_assistant)
    assert isinstance(app, gr.Blocks)
    assert app._queue.default_concurrency_limit == demo_assistant.settings.pool_size  # no global lock


def test_dates_and_stored_values_chosen_on_the_page_rerun_the_plan(ui: tuple[Handlers, View],
                                                                     demo_assistant: RiskAssistant) -> None:
    handlers, view = ui
    session = Session()
    list(handlers.ask("high severity AML alerts in 2026", AS_OF.isoformat(), session, None))
    offered = handlers.field_changed("severity", session, None)[view.values]
    assert offered["choices"] == ["critical", "high", "low", "medium"] and offered["value"] == ["high"]
    list(handlers.apply_values("severity", ["critical", "high"], session, None))
    assert session.last_plan is not None
    assert Filter(field="severity", op="in", value=["critical", "high"]) in session.last_plan.filters
    list(handlers.apply_dates("2026-03-01", "2026-03-31", session, None))
    recorded = demo_assistant.db.execute("SELECT plan, matched FROM answers ORDER BY asked_at DESC LIMIT 1")[0]
    dates = [(f["op"], f["value"]) for f in recorded[0]["filters"] if f["field"] == "occurred_at"]
    assert dates == [("gte", "2026-03-01"), ("lt", "2026-04-01")] and recorded[1] > 0
    updates = list(handlers.apply_dates("2026-03-31", "2026-03-01", session, None))
    assert "Those dates do not work" in final_reply(updates, view)
