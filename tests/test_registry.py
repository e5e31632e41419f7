"""The registry of stored values: kept current by ingestion, and what the planner grounds phrases in."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.api import RiskAssistant
from assistant.db import Database
from assistant.embed import Embedder
from assistant.ingest import ingest_file
from assistant.mapping import Mapping
from assistant.plan import Vocabulary, make_plan
from assistant.registry import values_in_text

from .conftest import AS_OF, CfpbSet


def _ingest(db: Database, embedder: Embedder, path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ingest_file(db, embedder, path, Mapping.identity("t"))


def _registry(db: Database) -> dict[tuple[str, str], int]:
    return {(r[0], r[1]): r[2] for r in db.execute("SELECT field, value, events FROM field_values")}


def test_ingestion_keeps_the_registry_current(db: Database, embedder: Embedder, tmp_path: Path) -> None:
    base = {"occurred_at": "2025-01-01", "category": "fraud_alert", "text": "alert"}
    rows = [{**base, "source_id": f"r{i}", "merchant_name": "Acme Stores", "case_no": f"C{i}"} for i in range(210)]
    _ingest(db, embedder, tmp_path / "a.jsonl", rows)
    registry = _registry(db)
    assert registry[("category", "fraud_alert")] == 210
    assert registry[("attributes.merchant_name", "Acme Stores")] == 210
    assert not any(field == "attributes.case_no" for field, _ in registry)  # 210 distinct values: an id
    _ingest(db, embedder, tmp_path / "b.jsonl", [{**base, "source_id": "x", "category": "chargeback",
                                                  "merchant_name": "Bolt Market"}])
    registry = _registry(db)
    assert registry[("category", "chargeback")] == 1 and ("attributes.merchant_name", "Bolt Market") in registry


def test_values_in_text_finds_exact_and_approximate_names(demo_assistant: RiskAssistant) -> None:
    exact = values_in_text(demo_assistant.db, "fraud at QuickShip Electronics last year")
    assert ("attributes.merchant_name", "QuickShip Electronics", 1.0) in {(m.field, m.value, m.score) for m in exact}
    fuzzy = values_in_text(demo_assistant.db, "fraud at Quickship Electronic")
    best = next(m for m in fuzzy if m.field == "attributes.merchant_name")
    assert best.value == "QuickShip Electronics" and 0.8 <= best.score < 1.0


def test_planner_grounds_attribute_values_in_stored_ones(demo_assistant: RiskAssistant) -> None:
    plan = demo_assistant.plan("chargebacks at MER-4417 in US-East", as_of=AS_OF)
    assert {(f.field, f.value) for f in plan.filters} >= {("attributes.merchant_id", "MER-4417"),
                                                          ("attributes.region", "US-East")}
    assert not any("MER-4417" in note for note in plan.notes)
    typo = demo_assistant.plan("fraud at Quickship Electronic", as_of=AS_OF)
    assert ("attributes.merchant_name", "QuickShip Electronics") in {(f.field, f.value) for f in typo.filters}
    assert any("approximate match" in note for note in typo.notes)
    unknown = demo_assistant.plan("fraud at Foo Bar Store", as_of=AS_OF)
    assert not any(f.field.startswith("attributes.") for f in unknown.filters)


def test_near_ties_are_reported_not_guessed() -> None:
    vocabulary = Vocabulary(attribute_values=[("attributes.merchant_name", "Nova Games", 0.86),
                                              ("attributes.merchant_name", "Nova Gamez", 0.84)])
    plan = make_plan("refunds at nova gamse", vocabulary, AS_OF)
    assert not plan.filters and any("ambiguous" in note for note in plan.notes)
    common = Vocabulary(attribute_values=[("attributes.channel", "online", 1.0)])
    assert not make_plan("online fraud", common, AS_OF).filters  # a common word is not a name


def test_companies_are_found_by_their_leading_name(cfpb: CfpbSet) -> None:
    assistant = cfpb.assistant
    for question, company, by_lead in [
            ("complaints about Experian in 2018", "Experian Information Solutions Inc.", True),
            ("Navient student loan complaints", "Navient Solutions, LLC.", True),
            ("what did customers say about Wells Fargo", "WELLS FARGO & COMPANY", False)]:  # the whole name
        plan = assistant.plan(question, as_of=AS_OF)
        assert ("entity_name", "eq", company) in {(f.field, f.op, f.value) for f in plan.filters}, plan.notes
        # Read from its leading word: less than certain, so it is among the plan's readings.
        assert by_lead == any(r.filter.field == "entity_name" and r.how.startswith("company") for r in plan.readings)
    # A word of a stored category name, or a common lower-case word, is not a company's name; a rare
    # lower-case one is (distinctive among the stored names, and rare in English).
    for question in ["debt collection complaints in 2019", "Debt collection complaints in 2019",
                     "complaints about wells and a chase"]:
        plan = assistant.plan(question, as_of=AS_OF)
        assert not any(f.field == "entity_name" for f in plan.filters), (question, plan.filters)
    plan = assistant.plan("complaints about experian", as_of=AS_OF)
    assert ("entity_name", "Experian Information Solutions Inc.") in {(f.field, f.value) for f in plan.filters}


def test_the_registry_knows_which_categories_hold_each_subcategory(cfpb: CfpbSet) -> None:
    pairs = set(cfpb.assistant.db.execute("SELECT subcategory, category FROM subcategory_parents"))
    assert ("Loan", "Vehicle loan or lease") in pairs and ("Medical debt", "Debt collection") in pairs
    # "student loan ... federal loans": the category named by two words beats the subcategory "Loan"
    # named by one, and no filter pair that can match nothing is left.
    plan = cfpb.assistant.plan("student loan servicing problems with federal loans in 2019", as_of=AS_OF)
    assert ("category", "Student loan") in {(f.field, f.value) for f in plan.filters}
    assert not any(f.field == "subcategory" and f.value == "Loan" for f in plan.filters)
    assert any("Loan was not used" in note for note in plan.notes)
