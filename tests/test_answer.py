"""Answering over the demo data: the planted patterns are found, cited and computed by the database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.api import RiskAssistant
from assistant.demo import DemoSet
from assistant.models import Filter, QueryPlan

from .conftest import AS_OF


def _source_ids(assistant: RiskAssistant, ids: list[int]) -> set[str]:
    rows = assistant.db.conn.execute("SELECT source_id FROM risk_events WHERE id = ANY(%s)", [ids]).fetchall()
    return {r[0] for r in rows}


def test_planted_cnp_burst_is_found_and_cited(demo_assistant: RiskAssistant, demo: DemoSet) -> None:
    planted = demo.planted["cnp_burst_q4_2025"]
    answer = demo_assistant.ask(planted.question, as_of=AS_OF)
    assert answer.mode == "offline" and "no LLM" in answer.summary
    merchant = next(c for c in answer.report.shared_attributes if c.value == "merchant_id = MER-4417")
    assert merchant.count == len(planted.source_ids)  # every burst event is in the evidence
    assert _source_ids(demo_assistant, merchant.event_ids) == planted.source_ids
    assert "merchant\\_id = MER-4417 in 60" in answer.summary
    typical = _source_ids(demo_assistant, answer.report.representative_ids)
    assert typical <= planted.source_ids  # the most typical events are burst events
    assert answer.citations and set(answer.citations) <= {e.id for e in answer.events}


def test_retrieval_of_a_planted_pattern_by_description(demo_assistant: RiskAssistant, demo: DemoSet) -> None:
    planted = demo.planted["structuring_2026_03"]
    plan = demo_assistant.plan(planted.question, as_of=AS_OF).model_copy(update={"k": len(planted.source_ids)})
    answer = demo_assistant.ask(planted.question, plan=plan)
    found = _source_ids(demo_assistant, [e.id for e in answer.events])
    assert len(found & planted.source_ids) / len(planted.source_ids) >= 0.9


def test_every_figure_matches_a_direct_count(demo_assistant: RiskAssistant, demo: DemoSet) -> None:
    answer = demo_assistant.ask(demo.planted["credit_drops_2026_q2"].question, as_of=AS_OF)
    by_category = {c.value: c.count for c in answer.report.by_category}
    assert sum(by_category.values()) == answer.report.evidence
    direct = demo_assistant.db.conn.execute(
        "SELECT count(*) FROM risk_events WHERE category = 'credit_score_change' "
        "AND subcategory = 'score_drop' AND occurred_at >= '2026-04-01' AND occurred_at < '2026-07-01'"
    ).fetchone()
    assert direct is not None and answer.report.matched == direct[0]


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
    assert answer.report.matched == 0 and answer.events == [] and answer.citations == []
    assert "No events matched" in answer.summary
    # The reason is given: the date range is never relaxed, so the answer says what the data covers.
    assert any(n.startswith("no stored event matches these filters") and "run from 2024-10" in n
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
    assert set(answer) >= {"plan", "events", "summary", "citations", "mode"}
    assert {"filters", "query", "like"} <= set(answer["plan"])
    assert {"field": "category", "op": "eq", "value": "aml_alert"} in answer["plan"]["filters"]
    assert all({"id", "score", "fields"} <= set(e) for e in answer["events"])
    assert answer["mode"] == "offline"
    bad = CliRunner().invoke(app, ["ask", "anything", "--as-of", "22/11/2026"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


def test_hnsw_search_agrees_with_exact_search(demo_assistant: RiskAssistant) -> None:
    from assistant.retrieve import retrieve

    plan = demo_assistant.plan("suspicious fraud alerts in 2025", as_of=AS_OF)
    exact = retrieve(demo_assistant.db, demo_assistant.embedder, plan, exact_below=10**9)
    approx = retrieve(demo_assistant.db, demo_assistant.embedder, plan, exact_below=0)
    assert (exact.method, approx.method) == ("exact", "hnsw") and exact.matched == approx.matched
    overlap = {h.id for h in exact.hits} & {h.id for h in approx.hits}
    assert len(overlap) >= 0.9 * len(exact.hits)
