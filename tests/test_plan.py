"""The deterministic planner: dated ranges, severity words, grounded categories, entity ids, "like" seeds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from assistant.api import RiskAssistant
from assistant.embed import Embedder
from assistant.meaning import value_names
from assistant.models import SEVERITIES, Filter, LikeTarget, QueryPlan
from assistant.plan import Vocabulary, make_plan

from .conftest import AS_OF

CATEGORIES = ["aml_alert", "chargeback", "complaint", "compliance_flag", "credit_score_change",
              "fraud_alert", "security_incident"]
SUBCATEGORIES = ["account_takeover", "card_not_present", "card_present", "duplicate_charge",
                 "goods_not_received", "high_risk_jurisdiction", "identity_theft", "phishing",
                 "sanctions_screening_hit", "score_drop", "score_increase", "sim_swap", "structuring"]
KNOWN = {"ACC-10231", "ACC-55555", "ACC-2025"}
VOCABULARY = Vocabulary(categories=CATEGORIES, subcategories=SUBCATEGORIES, known_entities=KNOWN)


def plan(question: str, as_of: dt.date = AS_OF, vocabulary: Vocabulary = VOCABULARY) -> QueryPlan:
    return make_plan(question, vocabulary, as_of)


def on(p: QueryPlan, field: str) -> list[Filter]:
    return [f for f in p.filters if f.field == field]


def values(p: QueryPlan, field: str) -> list[Any]:
    """Every value the plan's filters on one field accept (eq and in alike)."""
    found: list[Any] = []
    for f in on(p, field):
        found += f.value if f.op == "in" else [f.value]
    return found


def date_range(p: QueryPlan) -> tuple[str, str] | None:
    """(gte, lt) of the plan's occurred_at filters, or None when it has none."""
    dates = {f.op: f.value for f in on(p, "occurred_at")}
    if not dates:
        return None
    assert set(dates) == {"gte", "lt"} and len(on(p, "occurred_at")) == 2
    return dates["gte"], dates["lt"]


@pytest.mark.parametrize("question, as_of, expected", [
    ("Q4 2025 card-not-present fraud patterns", AS_OF, ("2025-10-01", "2026-01-01")),
    ("2025 Q4 chargebacks", AS_OF, ("2025-10-01", "2026-01-01")),
    ("chargebacks in q4 of 2025", AS_OF, ("2025-10-01", "2026-01-01")),
    ("Q4 fraud", dt.date(2026, 11, 22), ("2026-10-01", "2027-01-01")),
    ("Q4 fraud", dt.date(2026, 8, 1), ("2025-10-01", "2026-01-01")),
    ("Q4 fraud", dt.date(2026, 10, 1), ("2026-10-01", "2027-01-01")),
    ("Q1 complaints", dt.date(2026, 2, 10), ("2026-01-01", "2026-04-01")),
    ("Q2 score drops", dt.date(2026, 2, 10), ("2025-04-01", "2025-07-01")),
    ("structuring in March 2026", AS_OF, ("2026-03-01", "2026-04-01")),
    ("structuring in mar 2026", AS_OF, ("2026-03-01", "2026-04-01")),
    ("chargebacks December 2025", AS_OF, ("2025-12-01", "2026-01-01")),
    ("fraud in 2025", AS_OF, ("2025-01-01", "2026-01-01")),
])
def test_dates_become_half_open_ranges(question: str, as_of: dt.date, expected: tuple[str, str]) -> None:
    assert date_range(plan(question, as_of)) == expected


def test_bare_quarter_is_the_latest_begun_and_a_note_says_so() -> None:
    p = plan("Q4 fraud", dt.date(2026, 11, 22))
    assert any("bare Q4" in n and "Q4 2026" in n for n in p.notes)
    earlier = plan("Q4 fraud", dt.date(2026, 8, 1))
    assert any("bare Q4" in n and "Q4 2025" in n for n in earlier.notes)


def test_a_quarter_with_its_year_needs_no_explaining() -> None:
    p = plan("Q4 2025 fraud")
    assert not any("bare" in n for n in p.notes)
    assert any("2025-10-01" in n and "2025-12-31" in n for n in p.notes)


def test_the_date_phrase_leaves_the_semantic_query() -> None:
    p = plan("Q4 2025 card-not-present fraud patterns")
    assert "2025" not in p.query and "Q4" not in p.query
    assert "card-not-present" in p.query


def test_no_date_words_no_date_filter() -> None:
    assert date_range(plan("card-not-present fraud patterns")) is None


@pytest.mark.parametrize("question", ["events like #2024", "chargebacks on ACC-2025"])
def test_ids_that_look_like_years_are_not_dates(question: str) -> None:
    assert date_range(plan(question)) is None


@pytest.mark.parametrize("question, severity", [
    ("high severity fraud", "high"),
    ("high-severity fraud", "high"),
    ("critical security incidents", "critical"),
    ("complaints with severity low", "low"),
    ("Medium priority AML alerts", "medium"),
])
def test_severity_words(question: str, severity: str) -> None:
    assert [(f.op, f.value) for f in on(plan(question), "severity")] == [("eq", severity)]


@pytest.mark.parametrize("question", [
    "high amounts at online merchants",
    "fraud with a low score",
    "transfers to high-risk jurisdictions",
])
def test_other_uses_of_level_words_are_not_severity(question: str) -> None:
    assert on(plan(question), "severity") == []


@pytest.mark.parametrize("question, category", [
    ("fraud patterns", "fraud_alert"),
    ("chargebacks last quarter", "chargeback"),
    ("AML alerts", "aml_alert"),
    ("credit score changes", "credit_score_change"),
    ("security incidents", "security_incident"),
])
def test_category_grounded_by_phrase_or_distinctive_word(question: str, category: str) -> None:
    assert values(plan(question), "category") == [category]


def test_category_only_from_the_vocabulary() -> None:
    without_fraud = Vocabulary(categories=["chargeback", "complaint"], subcategories=[])
    assert on(plan("fraud patterns", vocabulary=without_fraud), "category") == []
    assert on(plan("strange goings-on at the branch"), "category") == []


def test_a_word_shared_by_two_categories_grounds_neither() -> None:
    shared = Vocabulary(categories=["fraud_alert", "fraud_case", "complaint"])
    assert on(plan("fraud patterns", vocabulary=shared), "category") == []
    assert values(plan("fraud case patterns", vocabulary=shared), "category") == ["fraud_case"]


@pytest.mark.parametrize("question, subcategory", [
    ("card-not-present fraud", "card_not_present"),
    ("card present skimming", "card_present"),
    ("sanctions screening hits", "sanctions_screening_hit"),
    ("score drops", "score_drop"),
])
def test_subcategory_phrase(question: str, subcategory: str) -> None:
    assert values(plan(question), "subcategory") == [subcategory]


def test_known_entity_becomes_a_filter() -> None:
    p = plan("alerts on ACC-10231")
    assert [(f.op, f.value) for f in on(p, "entity_id")] == [("eq", "ACC-10231")]


def test_unknown_entity_is_a_note_not_a_filter() -> None:
    p = plan("alerts on ACC-99999 and ACC-10231")
    assert values(p, "entity_id") == ["ACC-10231"]
    assert any("ACC-99999" in n and "not" in n for n in p.notes)
    alone = plan("alerts on ACC-99999")
    assert on(alone, "entity_id") == []


def test_like_an_entity() -> None:
    p = plan("accounts like acc-10231")
    assert p.like == LikeTarget(kind="entity", value="ACC-10231")
    assert on(p, "entity_id") == []  # the seed is not also a filter


def test_like_an_event() -> None:
    p = plan("events like #42")
    assert p.like == LikeTarget(kind="event", value="42")
    assert p.filters == []


def test_no_like_without_the_word() -> None:
    assert plan("alerts on ACC-10231").like is None


QUESTIONS = [
    "Q4 2025 card-not-present fraud patterns", "structuring cash deposits just under 10k in March 2026",
    "large credit score drops in Q2 2026", "critical security incidents", "chargebacks at MER-4417",
    "alerts on ACC-10231 and ACC-99999", "accounts like ACC-55555", "events like #17",
    "high severity AML alerts in 2025", "sanctions screening hits on wires", "phishing and sim swap",
    "complaints with severity low", "compliance flags for PEP matches", "duplicate charge chargebacks Q1",
    "anything odd?", "identity theft or account takeover in 2026 Q3", "severity medium complaints and fraud",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_filter_value_is_grounded(question: str) -> None:
    p = plan(question)
    grounded: dict[str, set[Any]] = {"category": set(CATEGORIES), "subcategory": set(SUBCATEGORIES),
                                     "entity_id": KNOWN, "severity": set(SEVERITIES)}
    for f in p.filters:
        assert f.op in ("eq", "in", "gte", "lt")
        if f.field == "occurred_at":
            dt.date.fromisoformat(f.value)
            continue
        if f.field == "amount":  # a number read from the question, not a stored value
            assert f.value == "10000"
            continue
        assert f.field in grounded
        assert set(values(p, f.field)) <= grounded[f.field], f
    assert p.as_of == AS_OF and p.question == question and p.query


def test_property_check_is_not_vacuous() -> None:
    fields = {f.field for q in QUESTIONS for f in plan(q).filters}
    assert fields == {"occurred_at", "category", "subcategory", "entity_id", "severity", "amount"}


def test_demo_plan_grounds_in_stored_values(demo_assistant: RiskAssistant) -> None:
    p = demo_assistant.plan("Q4 2025 card-not-present fraud patterns", as_of=AS_OF)
    assert values(p, "category") == ["fraud_alert"]
    assert values(p, "subcategory") == ["card_not_present"]
    assert date_range(p) == ("2025-10-01", "2026-01-01")


def amounts(p: QueryPlan) -> list[tuple[str, Any]]:
    return [(f.op, f.value) for f in on(p, "amount")]


@pytest.mark.parametrize("question, expected", [
    ("chargebacks over $5k", [("gt", "5000")]),
    ("wires above 10,000", [("gt", "10000")]),
    ("fraud losses of more than $2.5m", [("gt", "2500000")]),
    ("refunds under 500 dollars", [("lt", "500")]),
    ("complaints about less than €1,000", [("lt", "1000")]),
    ("transfers of at least 250", [("gte", "250")]),
    ("disputes of at most $300", [("lte", "300")]),
    ("payments over 1.5k", [("gt", "1500")]),
    ("deposits between 1,000 and 10,000", [("between", ["1000", "10000"])]),
    ("deposits between $1k and $10k", [("between", ["1000", "10000"])]),
    ("structuring cash deposits just under 10k in March 2026", [("lt", "10000")]),
    ("chargebacks over $5k in Q4 2025", [("gt", "5000")]),
    ("chargebacks over $1k and under $5k", [("lt", "5000"), ("gt", "1000")]),
])
def test_amount_phrases_become_bounds(question: str, expected: list[tuple[str, Any]]) -> None:
    assert sorted(amounts(plan(question))) == sorted(expected)


def test_an_amount_beside_a_date_leaves_the_date_alone() -> None:
    p = plan("more than 2000 dollars in 2025")
    assert amounts(p) == [("gt", "2000")]
    assert date_range(p) == ("2025-01-01", "2026-01-01")


@pytest.mark.parametrize("question", [
    "Q4 2025 chargebacks", "fraud in the last 90 days", "top 10 merchants by chargebacks", "events like #2024",
    "chargebacks on ACC-2025", "fraud in 2025", "accounts with more than 3 alerts", "score drops of over 50 points",
    "alerts between March 1 and March 15 2026", "2025 Q4 fraud", "chargebacks of $5k",
])
def test_no_amount_from_dates_ids_counts_or_bare_sums(question: str) -> None:
    assert on(plan(question), "amount") == []


def test_the_fiscal_year_start_reaches_the_planner() -> None:
    assert date_range(plan("FY2026 Q1 fraud")) == ("2026-01-01", "2026-04-01")
    october = make_plan("FY2026 Q1 fraud", VOCABULARY, AS_OF, fiscal_year_start_month=10)
    assert date_range(october) == ("2025-10-01", "2026-01-01")
    assert any("FY2026 runs 2025-10-01 to 2026-09-30" in n for n in october.notes)


def test_relative_dates_are_noted_and_leave_the_query() -> None:
    p = plan("chargebacks in the last 90 days")
    assert date_range(p) == ("2026-08-25", "2026-11-23")
    assert "last 90 days = 2026-08-25 to 2026-11-22" in p.notes
    assert p.query == "chargebacks"
    assert "last quarter = Q3 2026 (2026-07-01 to 2026-09-30)" in plan("chargebacks last quarter").notes


def ops(p: QueryPlan, field: str) -> list[tuple[str, Any]]:
    return [(f.op, f.value) for f in on(p, field)]


@pytest.mark.parametrize("question, category", [
    ("fraud excluding chargebacks", [("eq", "fraud_alert"), ("ne", "chargeback")]),
    ("alerts except AML alerts", [("ne", "aml_alert")]),
    ("complaints but not compliance flags", [("eq", "complaint"), ("ne", "compliance_flag")]),
    ("fraud without security incidents", [("eq", "fraud_alert"), ("ne", "security_incident")]),
    ("not fraud", [("ne", "fraud_alert")]),
    ("everything except chargebacks and complaints", [("not_in", ["chargeback", "complaint"])]),
    ("chargebacks and complaints, except chargebacks", [("eq", "complaint"), ("ne", "chargeback")]),
    ("fraud excluding chargebacks in Q4 2025", [("eq", "fraud_alert"), ("ne", "chargeback")]),
    ("fraud except on weekends", [("eq", "fraud_alert")]),
])
def test_negated_categories_are_excluded_not_included(question: str, category: list[tuple[str, Any]]) -> None:
    assert ops(plan(question), "category") == category


def test_a_negated_subcategory_leaves_its_category_wanted() -> None:
    p = plan("credit score changes except score drops")
    assert ops(p, "category") == [("eq", "credit_score_change")]
    assert ops(p, "subcategory") == [("ne", "score_drop")]
    q = plan("chargebacks excluding duplicate charges and goods not received")
    assert ops(q, "category") == [("eq", "chargeback")]
    assert ops(q, "subcategory") == [("not_in", ["duplicate_charge", "goods_not_received"])]


@pytest.mark.parametrize("question", ["card not present fraud", "card-not-present fraud", "goods not received"])
def test_not_inside_a_stored_phrase_negates_nothing(question: str) -> None:
    p = plan(question)
    assert all(f.op in ("eq", "in") for f in p.filters)
    assert values(p, "subcategory")


def test_a_negated_entity_is_excluded() -> None:
    assert ops(plan("alerts except ACC-10231"), "entity_id") == [("ne", "ACC-10231")]
    assert ops(plan("alerts on ACC-10231"), "entity_id") == [("eq", "ACC-10231")]


def test_a_value_named_only_inside_a_longer_stored_name_is_not_matched() -> None:
    vocabulary = Vocabulary(categories=["Vehicle loan or lease", "Consumer Loan", "loan"])
    p = make_plan("Vehicle loan or lease complaints in 2019", vocabulary, AS_OF)
    assert [(f.field, f.op, f.value) for f in p.filters if f.field == "category"] == [
        ("category", "eq", "Vehicle loan or lease")]


def test_excluding_a_subcategory_keeps_the_category_inside_its_name() -> None:
    vocabulary = Vocabulary(categories=["Mortgage", "Debt collection"], subcategories=["FHA mortgage"])
    p = make_plan("mortgage complaints other than FHA mortgages", vocabulary, AS_OF)
    assert {(f.field, f.op, f.value) for f in p.filters} == {("category", "eq", "Mortgage"),
                                                            ("subcategory", "ne", "FHA mortgage")}


@pytest.mark.parametrize("question, expected", [
    ("high or critical fraud alerts", ("in", ["high", "critical"])),
    ("critical or high fraud alerts", ("in", ["high", "critical"])),
    ("medium, high and critical priority complaints", ("in", ["medium", "high", "critical"])),
    ("severity high or critical", ("in", ["high", "critical"])),
    ("high severity and above", ("in", ["high", "critical"])),
    ("medium severity or higher chargebacks", ("in", ["medium", "high", "critical"])),
    ("low and medium severity complaints", ("in", ["low", "medium"])),
])
def test_severity_lists_and_and_above(question: str, expected: tuple[str, Any]) -> None:
    assert ops(plan(question), "severity") == [expected]


def test_a_level_list_without_a_severity_word_is_not_severity() -> None:
    assert on(plan("high or low amounts at online merchants"), "severity") == []


@pytest.mark.parametrize("question, expected", [
    ("anything but chargebacks", [("ne", "chargeback")]),
    ("everything but AML alerts and complaints", [("not_in", ["aml_alert", "complaint"])]),
    ("all but security incidents last month", [("ne", "security_incident")]),
])
def test_anything_but_negates(question: str, expected: list[tuple[str, Any]]) -> None:
    assert ops(plan(question), "category") == expected


@pytest.mark.parametrize("question, subcategories", [
    ("device anomalies or SIM swaps", ["device_anomaly", "sim_swap"]),
    ("transaction limit breaches", ["transaction_limit_breach"]),
    ("PEP matches", ["pep_match"]),
    ("unauthorised transactions", ["unauthorized_transaction"]),
])
def test_plural_and_british_spellings_match_stored_names(question: str, subcategories: list[str]) -> None:
    vocabulary = Vocabulary(categories=CATEGORIES, subcategories=[
        *SUBCATEGORIES, "device_anomaly", "transaction_limit_breach", "pep_match", "unauthorized_transaction"])
    assert sorted(values(plan(question, vocabulary=vocabulary), "subcategory")) == subcategories


def test_words_of_a_named_subcategory_do_not_name_a_category_again() -> None:
    assert {(f.field, f.value) for f in plan("score drops in Q2 2026").filters if f.field != "occurred_at"} == {
        ("subcategory", "score_drop")}
    assert values(plan("credit score drops in Q2 2026"), "category") == ["credit_score_change"]


def test_a_category_no_named_subcategory_is_stored_under_is_dropped_with_a_note() -> None:
    vocabulary = Vocabulary(categories=[*CATEGORIES, "Money transfer"], subcategories=SUBCATEGORIES,
                            parents={"high_risk_jurisdiction": {"aml_alert"}})
    p = plan("high risk jurisdiction transfers", vocabulary=vocabulary)
    assert values(p, "subcategory") == ["high_risk_jurisdiction"] and on(p, "category") == []
    assert any("Money transfer" in note and "high_risk_jurisdiction" in note for note in p.notes)
    consistent = plan("AML alerts in high risk jurisdiction", vocabulary=vocabulary)
    assert values(consistent, "category") == ["aml_alert"]


def test_a_negated_paraphrase_excludes_the_kind_not_the_category(embedder: Embedder) -> None:
    categories, subcategories = ["Mortgage", "Debt collection"], ["Conventional home mortgage", "FHA mortgage"]
    meaning = value_names(embedder, {"category": categories, "subcategory": subcategories})
    vocabulary = Vocabulary(categories=categories, subcategories=subcategories, meaning=meaning,
                            parents={s: {"Mortgage"} for s in subcategories})
    p = make_plan("mortgage complaints other than conventional mortgages", vocabulary, AS_OF)
    assert {(f.field, f.op, f.value) for f in p.filters} == {("category", "eq", "Mortgage"),
                                                            ("subcategory", "ne", "Conventional home mortgage")}
