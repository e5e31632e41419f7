"""The planner on data it was not written for: labels, meanings, numbers bound to attributes, "like X"
by the ids analysts quote, and answers that are never empty without a reason."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from assistant.api import RiskAssistant
from assistant.cli import app
from assistant.embed import Embedder
from assistant.evaluate import PlannerCase, evaluate_planner
from assistant.mapping import Mapping
from assistant.models import Filter
from assistant.server import EmbeddedServer

from .conftest import assistant_in_new_database

AS_OF = dt.date(2024, 6, 30)
MAPPING = """
source = "breaches"
[fields]
source_id = "Case"
occurred_at = "Reported"
category = "Kind"
text = "Summary"
entity_name = "Organisation"
[labels."Response on time"]
No = "late response, not timely, untimely"
Yes = "timely response, answered on time"
[labels.Channel]
PM = "postal mail, letter, post"
PH = "phone, telephone call"
WEB = "web form, online"
"""
KINDS = ["HACK", "DISC", "PHYS"]
SUMMARIES = {
    "HACK": "Outside attackers broke into the network and copied customer records",
    "DISC": "An employee emailed a spreadsheet of customer data to the wrong recipient",
    "PHYS": "A laptop holding unencrypted files was stolen from a car",
}


def _rows() -> list[dict[str, str]]:
    rows = []
    for i in range(60):
        kind = KINDS[i % 3]
        rows.append({"Case": f"inc-{20400 + i}", "Reported": f"2023-{1 + i % 12:02d}-{1 + i % 27:02d}",
                     "Kind": kind, "Summary": f"{SUMMARIES[kind]} (case {i})",
                     "Organisation": ["Acme Health Partners, LLC", "Bolt Savings Bank, N.A."][i % 2],
                     "Records affected": str(1000 * (i + 1) ** 2), "Response on time": "No" if i % 4 == 0 else "Yes",
                     "Channel": ["PM", "PH", "WEB"][i % 3]})
    return rows


@pytest.fixture(scope="module")
def breaches(server: EmbeddedServer, embedder: Embedder,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[RiskAssistant]:
    """A small breach chronology, ingested with a mapping that declares labels for coded values."""
    tmp = tmp_path_factory.mktemp("breaches")
    assistant = assistant_in_new_database(server, embedder, tmp)
    path = tmp / "breaches.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(_rows()[0]))
        writer.writeheader()
        writer.writerows(_rows())
    (tmp / "breaches.toml").write_text(MAPPING)
    assistant.ingest(path, Mapping.load(tmp / "breaches.toml"))
    yield assistant
    assistant.close()


def _filters(assistant: RiskAssistant, question: str) -> set[tuple[str, str, object]]:
    plan = assistant.plan(question, as_of=AS_OF)
    return {(f.field, f.op, json.dumps(f.value)) for f in plan.filters}


def test_a_number_is_bound_to_the_numeric_attribute_it_names(breaches: RiskAssistant) -> None:
    found = _filters(breaches, "breaches with more than two million records affected in 2023")
    assert ("attributes.records_affected", "gt", '"2000000"') in found
    assert not any(name == "amount" for name, _, _ in found)
    answer = breaches.ask("breaches with more than two million records affected in 2023", as_of=AS_OF)
    assert answer.events and all(int(h.fields["attributes"]["records_affected"]) > 2_000_000 for h in answer.events)


@pytest.mark.parametrize(("question", "expected"), [
    ("late responses in 2023", ("attributes.response_on_time", "eq", '"No"')),
    ("breaches reported by post", ("attributes.channel", "eq", '"PM"')),
    ("incidents reported over the telephone", ("attributes.channel", "eq", '"PH"')),
])
def test_coded_values_are_read_through_their_labels(breaches: RiskAssistant, question: str,
                                                    expected: tuple[str, str, str]) -> None:
    assert expected in _filters(breaches, question)


def test_like_x_reads_the_id_analysts_quote(breaches: RiskAssistant) -> None:
    plan = breaches.plan("incidents like inc-20417", as_of=AS_OF)
    assert plan.like is not None and plan.like.kind == "event"
    assert any("like inc-20417: event #" in note and "source id" in note for note in plan.notes)
    answer = breaches.ask("incidents like inc-20417", as_of=AS_OF)
    assert answer.events and all(h.fields["source_id"] != "inc-20417" for h in answer.events)


def test_an_unknown_like_target_is_a_note_not_an_error(breaches: RiskAssistant) -> None:
    answer = breaches.ask("incidents like inc-99999 in 2023", as_of=AS_OF)
    assert answer.plan.like is None and answer.events
    assert any("inc-99999 is not a stored event id, source id or entity id" in n for n in answer.plan.notes)


def test_an_empty_plan_is_relaxed_with_a_reason(breaches: RiskAssistant) -> None:
    # Every PHYS case came by web form (rows i % 3 == 2): PHYS by telephone matches nothing.
    answer = breaches.ask("PHYS breaches reported over the telephone", as_of=AS_OF)
    assert answer.events, "an empty answer"
    said = [n.text for n in answer.notes if n.text.startswith("no event has ")]
    assert said and "left out attributes.channel eq PH ('telephone' read by meaning" in said[0], answer.notes
    assert all(h.fields["category"] == "PHYS" for h in answer.events)
    assert [r.filter for r in answer.plan.suggestions] == [Filter(field="attributes.channel", op="eq", value="PH")]
    # What the planner read before relaxing: its plan with the filter it left out put back.
    unrelaxed = answer.plan.model_copy(update={"filters": [*answer.plan.filters,
                                                           *(r.filter for r in answer.plan.suggestions)]})
    exact = breaches.ask("PHYS breaches", as_of=AS_OF, plan=unrelaxed)
    assert not exact.events  # an edited plan runs exactly as given, even when it matches nothing


def test_relaxation_names_the_filter_it_left_out(breaches: RiskAssistant) -> None:
    from assistant.relax import relax_plan

    plan = breaches.plan("breaches in 2023", as_of=AS_OF)
    plan.filters.append(Filter(field="attributes.channel", op="eq", value="PM"))
    plan.filters.append(Filter(field="entity_name", op="eq", value="Nobody Ltd"))
    relaxed, note = relax_plan(breaches.db, plan)
    assert note is not None and note.startswith("no event has ")
    assert "left out entity_name eq Nobody Ltd" in note
    assert Filter(field="entity_name", op="eq", value="Nobody Ltd") not in relaxed.filters
    assert Filter(field="attributes.channel", op="eq", value="PM") in relaxed.filters


def test_evaluation_measures_what_the_analyst_sees(breaches: RiskAssistant) -> None:
    cases = [PlannerCase(question="late responses in 2023", as_of=AS_OF, expected=[
        Filter(field="occurred_at", op="gte", value="2023-01-01"),
        Filter(field="occurred_at", op="lt", value="2024-01-01"),
        Filter(field="attributes.response_on_time", op="eq", value="No")]),
        PlannerCase(question="web form breaches", as_of=AS_OF, expected=[
            Filter(field="attributes.channel", op="eq", value="PM")])]  # a wrong label: its events miss it
    scores = evaluate_planner(breaches, cases, answers=True)
    assert scores.answered == 2 and not scores.empty
    assert 0.4 < scores.event_precision < 0.6  # the first answer all right, the second all wrong


def test_json_output_survives_a_narrow_terminal(breaches: RiskAssistant, tmp_path: Path) -> None:
    url = breaches.settings.database_url
    assert url is not None
    question = "breaches with more than two million records affected reported by post " + "and more " * 20
    result = CliRunner().invoke(app, ["plan", question, "--json", "--as-of", "2024-06-30"],
                                env={"DATABASE_URL": url.get_secret_value(), "COLUMNS": "40",
                                     "RISK_DATA_DIR": str(tmp_path), "OPENAI_API_KEY": "", "OPENAI_BASE_URL": ""})
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["question"] == question


def test_companies_named_together_are_one_filter(breaches: RiskAssistant) -> None:
    found = _filters(breaches, "breaches at acme health partners or Bolt Savings Bank in 2023")
    names = '["Acme Health Partners, LLC", "Bolt Savings Bank, N.A."]'
    assert ("entity_name", "in", names) in found and sum(name == "entity_name" for name, _, _ in found) == 1


def test_reading_thresholds_are_settings(breaches: RiskAssistant) -> None:
    settings = breaches.settings.model_copy(update={"meaning_min": 0.99, "meaning_min_one_word": 0.99})
    strict = RiskAssistant(settings, breaches.db, breaches.embedder)  # shares the database: not closed here
    assert ("attributes.channel", "eq", '"PH"') in _filters(breaches, "incidents reported over the telephone")
    assert ("attributes.channel", "eq", '"PH"') not in _filters(strict, "incidents reported over the telephone")
