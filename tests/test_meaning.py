"""Grounding by meaning: paraphrases of stored value names, read with the real embedding model."""

from __future__ import annotations

import pytest

from assistant.agent import ground_filters
from assistant.embed import Embedder
from assistant.meaning import ValueNames, name_text, phrases, value_names
from assistant.models import Filter, QueryPlan
from assistant.plan import Vocabulary, make_plan

from .conftest import AS_OF

CATEGORIES = ["aml_alert", "chargeback", "complaint", "compliance_flag", "credit_score_change",
              "fraud_alert", "security_incident"]
SUBCATEGORIES = ["account_takeover", "card_declined", "card_not_present", "card_present", "collections_contact",
                 "device_anomaly", "duplicate_charge", "fee_dispute", "goods_not_received", "high_risk_jurisdiction",
                 "identity_theft", "kyc_refresh_overdue", "not_as_described", "pep_match", "phishing",
                 "rapid_movement", "sanctions_screening_hit", "score_drop", "score_increase", "service_delay",
                 "sim_swap", "structuring", "transaction_limit_breach", "unauthorized_transaction"]


@pytest.fixture(scope="module")
def names(embedder: Embedder) -> ValueNames:
    return value_names(embedder, {"category": CATEGORIES, "subcategory": SUBCATEGORIES})


def plan(question: str, names: ValueNames) -> QueryPlan:
    return make_plan(question, Vocabulary(categories=CATEGORIES, subcategories=SUBCATEGORIES, meaning=names), AS_OF)


def grounded(p: QueryPlan) -> set[tuple[str, str, object]]:
    return {(f.field, f.op, str(f.value)) for f in p.filters if f.field in ("category", "subcategory")}


@pytest.mark.parametrize("question, expected", [
    ("money laundering in March 2026", {("category", "eq", "aml_alert")}),
    ("sanctions hits over $50k", {("subcategory", "eq", "sanctions_screening_hit")}),
    ("complaints about fees", {("category", "eq", "complaint"), ("subcategory", "eq", "fee_dispute")}),
    ("stolen identity cases", {("subcategory", "eq", "identity_theft")}),
    ("fraud excluding money laundering", {("category", "eq", "fraud_alert"), ("category", "ne", "aml_alert")}),
])
def test_paraphrases_are_read_as_the_stored_value_with_a_note(names: ValueNames, question: str,
                                                              expected: set[tuple[str, str, object]]) -> None:
    p = plan(question, names)
    assert grounded(p) == expected
    assert any("by meaning" in note for note in p.notes)


@pytest.mark.parametrize("question", [
    "transfers to new payees",            # nothing stored means "transfers"
    "credit card fraud",                  # "card" is shared by three subcategories: no pick among them
    "exclude account ACC-10231",          # "account" labels the id; it is not account takeover
    "suspicious activity on the weekend",
    "large transactions",                 # "transaction" is in two subcategory names
])
def test_no_paraphrase_no_value(names: ValueNames, question: str) -> None:
    p = plan(question, names)
    assert not any(f.field == "subcategory" for f in p.filters), p.filters
    assert not any("by meaning" in note and "subcategory" in note for note in p.notes)


def test_a_near_tie_is_noted_not_used(embedder: Embedder) -> None:
    stored = ["theft", "stealing"]  # "stolen goods": 0.76 and 0.75
    tied = value_names(embedder, {"subcategory": stored})
    p = make_plan("stolen goods", Vocabulary(subcategories=stored, meaning=tied), AS_OF)
    assert not any(f.field == "subcategory" for f in p.filters)
    assert any("could mean subcategory" in note for note in p.notes)


def test_only_stored_values_come_out(names: ValueNames) -> None:
    stored = set(CATEGORIES) | set(SUBCATEGORIES)
    for question in ["money laundering", "sanctions hits", "fees", "hacked accounts", "loan defaults",
                     "wire fraud", "crypto scams", "late payments", "KYC overdue", "politically exposed people"]:
        for f in plan(question, names).filters:
            assert set(f.value if isinstance(f.value, list) else [f.value]) <= stored


def test_name_text_spells_out_acronyms_and_phrases_skip_stop_words() -> None:
    assert name_text("aml_alert") == "anti money laundering (AML) alert"
    assert name_text("Credit card") == "Credit card"
    found = [p for p, _ in phrases("show me money laundering, in Q3 2025")]
    assert "money laundering" in found and "laundering" in found
    assert not any(p.startswith(("show", "me")) or "2025" in p or "q3" in p for p in found)


def test_agent_grounding_reads_an_unstored_value_by_meaning(names: ValueNames) -> None:
    vocabulary = {"category": CATEGORIES, "subcategory": SUBCATEGORIES}
    kept, notes = ground_filters([Filter(field="category", op="eq", value="money laundering"),
                                  Filter(field="subcategory", op="eq", value="crypto rug pulls")], vocabulary, names)
    assert kept == [Filter(field="category", op="eq", value="aml_alert")]
    assert any("by meaning" in n for n in notes) and any("crypto rug pulls" in n for n in notes)
    without, _ = ground_filters([Filter(field="category", op="eq", value="money laundering")], vocabulary)
    assert without == []
