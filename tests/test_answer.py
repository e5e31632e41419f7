"""Answering over the demo data: facts over every matching event, computed by the database and checked
against direct SQL; the stream's stages in order; every answer recorded."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from assistant.api import RiskAssistant
from assistant.check import check_text
from assistant.demo import DemoSet
from assistant.figures import event_items, theme_items
from assistant.models import Answer, AnswerEvent, Filter, QueryPlan
from assistant.render.parts import sections
from assistant.render.text import to_text

from .conftest import AS_OF, vector_indexed

CREDIT_WHERE = ("category = 'credit_score_change' AND subcategory = 'score_drop' "
                "AND occurred_at >= '2026-04-01' AND occurred_at < '2026-07-01'")


def _source_ids(assistant: RiskAssistant, ids: list[int]) -> set[str]:
    rows = assistant.db.execute("SELECT source_id FROM risk_events WHERE id = ANY(%s)", [ids])
    return {r[0] for r in rows}


def _sql(assistant: RiskAssistant, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    return assistant.db.execute(statement, list(params))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def credit(demo_assistant: RiskAssistant, demo: DemoSet) -> Answer:
    """The answer to the planted Q2 2026 credit-drop question."""
    return demo_assistant.ask(demo.planted["credit_drops_2026_q2"].question, as_of=AS_OF)


def test_the_plan_is_the_one_the_direct_sql_reads(credit: Answer) -> None:
    filters = {(f.field, f.op, str(f.value)[:10] if f.field == "occurred_at" else f.value)
               for f in credit.plan.filters}
    assert filters == {("category", "eq", "credit_score_change"), ("subcategory", "eq", "score_drop"),
                       ("occurred_at", "gte", "2026-04-01"), ("occurred_at", "lt", "2026-07-01")}


def test_facts_count_every_matching_event_as_direct_sql_does(demo_assistant: RiskAssistant, credit: Answer) -> None:
    facts = credit.facts
    assert facts.matched == _sql(demo_assistant, f"SELECT count(*) FROM risk_events WHERE {CREDIT_WHERE}")[0][0]
    assert facts.matched > facts.evidence or facts.matched == facts.evidence
    for column in ("severity", "entity_id"):
        direct = dict(_sql(demo_assistant, f"SELECT {column}, count(*) FROM risk_events WHERE {CREDIT_WHERE} "
                                           f"GROUP BY {column}"))
        dimension = "entity" if column == "entity_id" else column
        counted = facts.breakdown(dimension)
        assert counted, dimension
        for c in counted:
            assert c.count == direct[c.value.split(" ")[0]], (dimension, c)
    months = dict(_sql(demo_assistant, "SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM'), count(*) "
                                       f"FROM risk_events WHERE {CREDIT_WHERE} GROUP BY 1"))
    assert {c.value: c.count for c in facts.breakdown("month")} == months


def test_the_chart_series_counts_every_month_and_category_as_direct_sql(demo_assistant: RiskAssistant) -> None:
    # A plan spanning categories: the series behind the UI's chart of matched events over time.
    answer = demo_assistant.ask("high severity events in 2026", as_of=AS_OF)
    where = " AND ".join(f.field for f in answer.plan.filters)
    assert "severity" in where and "occurred_at" in where, answer.plan
    direct = {f"{month} {category}": n for month, category, n in _sql(
        demo_assistant, "SELECT to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM'), category, count(*) "
                        "FROM risk_events WHERE severity = 'high' AND occurred_at >= '2026-01-01' "
                        "AND occurred_at < '2027-01-01' GROUP BY 1, 2")}
    series = answer.facts.breakdown("month_category")
    assert {c.value: c.count for c in series} == direct
    assert len({c.value.split(" ")[1] for c in series}) > 1  # more than one category: a chart with several lines
    assert [c.value for c in series] == sorted(c.value for c in series)


def test_score_drops_are_computed_over_every_matching_event(demo_assistant: RiskAssistant, credit: Answer) -> None:
    change = next(n for n in credit.facts.numeric if n.scope == "matched" and n.field == "score change")
    median, low, n = _sql(demo_assistant, "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d), min(d), count(*) "
                                          "FROM (SELECT (attributes->>'score_after')::float8 - "
                                          "(attributes->>'score_before')::float8 AS d FROM risk_events "
                                          f"WHERE {CREDIT_WHERE}) x")[0]
    assert (change.events, change.median, change.min) == (n, median, low)
    assert change.median < 0  # a drop


def test_the_trend_compares_equal_periods_as_direct_sql_counts(demo_assistant: RiskAssistant, credit: Answer) -> None:
    trend = credit.facts.trend
    assert trend is not None and str(trend.start) == "2026-04-01" and str(trend.previous_start) == "2026-01-01"
    previous = _sql(demo_assistant, "SELECT count(*) FROM risk_events WHERE category = 'credit_score_change' AND "
                                    "subcategory = 'score_drop' AND occurred_at >= '2026-01-01' "
                                    "AND occurred_at < '2026-04-01'")[0][0]
    assert (trend.count, trend.previous_count) == (credit.facts.matched, previous)
    assert 0 <= trend.p_value <= 1 and trend.significant == (trend.p_value < 0.05)


def test_amounts_per_currency_equal_direct_sums(demo_assistant: RiskAssistant) -> None:
    answer = demo_assistant.ask("high severity AML alerts in 2026", as_of=AS_OF)
    where = ("category = 'aml_alert' AND severity = 'high' AND occurred_at >= '2026-01-01' "
             "AND occurred_at < '2027-01-01' AND amount IS NOT NULL")
    direct = {cur: (n, total, low, high) for cur, n, total, low, high in _sql(
        demo_assistant, f"SELECT currency, count(*), sum(amount), min(amount), max(amount) FROM risk_events "
                        f"WHERE {where} GROUP BY currency")}
    matched = [a for a in answer.facts.amounts if a.scope == "matched"]
    assert {a.currency: (a.events, a.total, a.min, a.max) for a in matched} == direct
    evidence = [a for a in answer.facts.amounts if a.scope == "evidence"]
    assert sum(a.events for a in evidence) <= sum(a.events for a in matched)
    total = answer.facts.fact(f"matched.amount[{matched[0].currency}].total")
    assert total is not None and Decimal(str(total.value)) == matched[0].total


@pytest.mark.parametrize("question", ["large credit score drops in Q2 2026", "Q4 2025 card-not-present fraud patterns",
                                      "structuring cash deposits just under 10k in March 2026",
                                      "high severity AML alerts in 2026", "phishing since June 2026"])
def test_every_figure_in_the_offline_answer_is_a_computed_fact(demo_assistant: RiskAssistant, question: str) -> None:
    answer = demo_assistant.ask(question, as_of=AS_OF)
    figures = [*answer.facts.items, *theme_items(answer.themes, answer.anomalies), *event_items(answer.events)]
    checked_lines = 0
    for section in sections(answer):
        for line in section.lines:
            if section.kind in ("notes", "notice"):
                continue
            checked = check_text(line, figures, set(answer.evidence_ids), given=answer.question)
            assert checked.unsupported == [] and checked.removed_citations == [], (section.kind, line)
            assert checked.text == line
            checked_lines += 1
    assert checked_lines >= 3


def test_the_answer_states_its_coverage(credit: Answer) -> None:
    text = to_text(credit)
    assert credit.mode == "offline" and "no LLM" in text
    assert (f"{credit.facts.matched:,} events match; the themes and listed events are drawn from the "
            f"{credit.facts.evidence:,} best-ranked") in text
    lead = text.index(credit.summary[:40])
    assert lead < text.index("Patterns:") < text.index("Trend:") < text.index("Coverage:")


def test_the_stream_yields_its_stages_in_order(demo_assistant: RiskAssistant) -> None:
    stream = demo_assistant.ask_stream("chargebacks in 2025", as_of=AS_OF)
    stages = [event.stage for event in stream]
    assert stages[:4] == ["plan", "evidence", "facts", "themes"] and stages[-1] == "answer"
    assert set(stages[4:-1]) == {"summary"} and len(stages) > 6  # the report's sections, one by one
    answer = stream.answer()
    assert answer.question == "chargebacks in 2025"
    assert list(answer.timings) == ["plan", "evidence", "facts", "themes", "anomalies", "summary"]
    again = demo_assistant.ask_stream("chargebacks in 2025", as_of=AS_OF)
    assert isinstance(list(again)[-1], AnswerEvent)
    deltas = "".join(demo_assistant.ask_stream("chargebacks in 2025", as_of=AS_OF).text())
    assert answer.summary in deltas


def test_every_answer_is_recorded_under_its_id(demo_assistant: RiskAssistant, credit: Answer) -> None:
    row = demo_assistant.db.fetch_one("select_answer", {"id": credit.id})
    assert row is not None
    assert (row["question"], row["analyst"], row["mode"]) == (credit.question, "local", "offline")
    assert row["evidence_ids"] == credit.evidence_ids and row["cited_ids"] == credit.citations
    assert row["matched"] == credit.facts.matched and row["plan"]["filters"] == json.loads(
        credit.plan.model_dump_json())["filters"]
    assert row["embedding_model"] == demo_assistant.embedder.name and row["llm_model"] is None
    assert set(row["timings"]) == {"plan", "evidence", "facts", "themes", "anomalies", "summary"}
    assert row["settings"]["evidence_size"] == demo_assistant.settings.evidence_size


def test_the_analyst_is_recorded(demo_assistant: RiskAssistant) -> None:
    answer = demo_assistant.ask("phishing incidents", as_of=AS_OF, analyst="ana@example.com")
    row = demo_assistant.db.fetch_one("select_answer", {"id": answer.id})
    assert row is not None and row["analyst"] == answer.analyst == "ana@example.com"


def test_like_an_account_says_what_the_matches_share(demo_assistant: RiskAssistant, demo: DemoSet) -> None:
    planted = demo.planted["structuring_2026_03"]
    target = next(r for r in demo.rows if r["source_id"] in planted.source_ids)["entity_id"]
    answer = demo_assistant.ask(f"cases like {target}", as_of=AS_OF)
    like = answer.facts.like
    assert answer.plan.like is not None and like is not None and like.target == target
    assert like.target_events >= 3 and like.profile.get("subcategory") == "structuring"
    shared = {c.value: c for c in like.shared}
    same = shared["subcategory = structuring"]
    direct = _sql(demo_assistant, "SELECT count(*) FROM risk_events WHERE id = ANY(%s) "
                                  "AND subcategory = 'structuring'", answer.evidence_ids)[0][0]
    assert same.count == direct > 0
    assert all(c.count <= answer.facts.evidence for c in like.shared)


def test_planted_cnp_burst_is_found_and_cited(demo_assistant: RiskAssistant, demo: DemoSet) -> None:
    planted = demo.planted["cnp_burst_q4_2025"]
    answer = demo_assistant.ask(planted.question, as_of=AS_OF)
    merchant = next(c for c in answer.facts.shared_attributes if c.value == "merchant_id = MER-4417")
    assert merchant.count == len(planted.source_ids)  # every burst event is in the evidence
    assert answer.citations and set(answer.citations) <= set(answer.evidence_ids)


def test_retrieval_of_a_planted_pattern_by_description(demo_assistant: RiskAssistant, demo: DemoSet) -> None:
    planted = demo.planted["structuring_2026_03"]
    plan = demo_assistant.plan(planted.question, as_of=AS_OF).model_copy(update={"k": len(planted.source_ids)})
    answer = demo_assistant.ask(planted.question, plan=plan)
    found = _source_ids(demo_assistant, [e.id for e in answer.events])
    assert len(found & planted.source_ids) / len(planted.source_ids) >= 0.9


def test_edited_plan_is_what_runs(demo_assistant: RiskAssistant) -> None:
    plan = QueryPlan(question="chargebacks", query="chargeback dispute", as_of=AS_OF, k=5,
                     filters=[Filter(field="category", op="eq", value="chargeback"),
                              Filter(field="severity", op="in", value=["critical"])])
    answer = demo_assistant.ask("chargebacks", plan=plan)
    assert answer.plan == plan and answer.events
    # the 5 nearest are listed, plus any event the report cites beyond them
    nearest = {e.id for e in sorted(answer.events, key=lambda e: -e.score)[:5]}
    assert set(answer.citations) | nearest >= {e.id for e in answer.events}
    assert {(e.fields["category"], e.fields["severity"]) for e in answer.events} == {("chargeback", "critical")}


def test_no_match_says_so(demo_assistant: RiskAssistant) -> None:
    answer = demo_assistant.ask("fraud alerts in 2019", as_of=AS_OF)
    assert answer.facts.matched == 0 and answer.events == [] and answer.citations == []
    assert "No events match" in answer.summary and answer.themes.themes == []
    # The reason is given: the date range is never relaxed, so the answer says what the data covers.
    assert any(n.text.startswith("no stored event matches these filters") and "run from 2024-10" in n.text
               for n in answer.notes), answer.notes


@pytest.mark.slow
def test_cli_ask_json(demo_assistant: RiskAssistant, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from assistant.cli import app

    assert demo_assistant.settings.database_url is not None
    monkeypatch.setenv("DATABASE_URL", demo_assistant.settings.database_url.get_secret_value())
    monkeypatch.setenv("RISK_DATA_DIR", str(tmp_path))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["ask", "high severity AML alerts in 2026", "--json",
                                      "--as-of", "2026-11-22"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert set(answer) >= {"id", "plan", "events", "summary", "citations", "mode", "facts", "themes", "timings"}
    assert {"filters", "query", "like"} <= set(answer["plan"])
    assert {"field": "category", "op": "eq", "value": "aml_alert"} in answer["plan"]["filters"]
    assert all({"id", "score", "fields"} <= set(e) for e in answer["events"])
    assert answer["mode"] == "offline"
    bad = CliRunner().invoke(app, ["ask", "anything", "--as-of", "22/11/2026"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_ivf_search_agrees_with_exact_search(demo_assistant: RiskAssistant) -> None:
    from assistant.retrieve import retrieve

    plan = demo_assistant.plan("suspicious fraud alerts in 2025", as_of=AS_OF)
    exact = retrieve(demo_assistant.db, demo_assistant.embedder, plan, exact_below=10**9)
    without_index = retrieve(demo_assistant.db, demo_assistant.embedder, plan, exact_below=0)
    assert without_index.method == "exact"  # no index yet: every search is exact, whatever exact_below says
    with vector_indexed(demo_assistant, lists=20):
        approx = retrieve(demo_assistant.db, demo_assistant.embedder, plan, exact_below=0)
    assert (exact.method, approx.method) == ("exact", "ivf") and exact.matched == approx.matched
    overlap = {h.id for h in exact.hits} & {h.id for h in approx.hits}
    assert len(overlap) >= 0.9 * len(exact.hits)


@pytest.mark.slow
def test_cli_ask_prints_the_plan_then_the_report_as_plain_text(demo_assistant: RiskAssistant,
                                                               monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from assistant.cli import app

    assert demo_assistant.settings.database_url is not None
    monkeypatch.setenv("DATABASE_URL", demo_assistant.settings.database_url.get_secret_value())
    monkeypatch.setenv("RISK_DATA_DIR", str(tmp_path))
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["ask", "chargebacks [bold]in[/bold] 2025", "--as-of", "2026-11-22"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.startswith("Plan: ") and "[bold]in[/bold]" in out  # the question's text is never rich markup
    assert out.index("Plan: ") < out.index("no LLM") < out.index("Coverage: ") < out.index("mode: offline · answer ")
    answer_id = out.split("mode: offline · answer ")[1].split(" ")[0]
    assert demo_assistant.db.fetch_one("select_answer", {"id": answer_id}) is not None
