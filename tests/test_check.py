"""The checker holds a summary's numbers, dates and citations to the computed facts (pure, no database)."""

from __future__ import annotations

import pytest

from assistant.check import check_citations, check_text, find_claims
from assistant.models import Fact

FACTS = [
    Fact(key="matched.count", label="events matched", value=71, kind="count"),
    Fact(key="matched.category[fraud_alert].share", label="share of fraud alerts", value=41.2, kind="share"),
    Fact(key="trend.count.change_pct", label="change in events", value=-12.0, kind="change"),
    Fact(key="matched.amount[USD].total", label="total amount", value=1234567.0, kind="amount", currency="USD"),
    Fact(key="matched.amount[USD].median", label="median amount", value=1234.56, kind="amount", currency="USD"),
    Fact(key="trend.p_value", label="p-value of the change", value=0.003, kind="p_value"),
    Fact(key="trend.peak_day", label="busiest day", value="2025-11-03", kind="date"),
    Fact(key="trend.first_month", label="first month", value="2025-10", kind="date"),
]
ALLOWED = {12, 13, 14}
SUMMARY = """**What the events share**

- 71 events matched, and fraud alerts make up 41% of them [#12].
- Alerts fell 12% against the previous period (p = 0.003) [#13].
- The total amount was $1.2M, with a median of $1,234.56 [#12].
- Activity peaked on 3 November 2025, after a quiet October 2025 [#14].

Next: review the rule KYC-103 hits on ACC-1234 in US-East for 2025."""


@pytest.mark.parametrize(("text", "value", "kind"), [
    ("1,234", 1234.0, "number"),
    ("1234.5", 1234.5, "number"),
    ("1.2k", 1200.0, "number"),
    ("12K", 12000.0, "number"),
    ("$1.2M", 1200000.0, "amount"),
    ("€3.4 million", 3400000.0, "amount"),
    ("USD 12,000", 12000.0, "amount"),
    ("12,000.50 EUR", 12000.5, "amount"),
    ("40 dollars", 40.0, "amount"),
    ("US$5", 5.0, "amount"),
    ("41%", 41.0, "percent"),
    ("41.2 percent", 41.2, "percent"),
    ("-12%", -12.0, "percent"),
    ("+35%", 35.0, "percent"),
    ("sixty", 60.0, "number"),
    ("twenty-five percent", 25.0, "percent"),
    ("three hundred and five", 305.0, "number"),
    ("two million", 2000000.0, "number"),
    ("2025-11-03", "2025-11-03", "date"),
    ("2025-11", "2025-11", "date"),
    ("Nov 2025", "2025-11", "date"),
    ("November 2025", "2025-11", "date"),
    ("3 November 2025", "2025-11-03", "date"),
    ("November 3, 2025", "2025-11-03", "date"),
    ("Nov. 3rd", "--11-03", "date"),
    ("Q4 2025", "2025-Q4", "date"),
    ("2025", "2025", "date"),
])
def test_formats_parse_to_value_and_kind(text: str, value: float | str, kind: str) -> None:
    claims = find_claims(f"We saw {text} here.")
    assert [(c.text, c.value, c.kind) for c in claims] == [(text, value, kind)]
    assert f"We saw {text} here."[claims[0].start:claims[0].end] == text


@pytest.mark.parametrize(("text", "currency", "direction"), [
    ("$5", "USD", ""), ("€5", "EUR", ""), ("5 GBP", "GBP", ""),
    ("down 12%", None, "down"), ("fell by about 12%", None, "down"), ("a 12% drop", None, "down"),
    ("rose 12%", None, "up"), ("-12%", None, "down"), ("+12%", None, "up"), ("12%", None, ""),
])
def test_currency_and_direction_are_read(text: str, currency: str | None, direction: str) -> None:
    [claim] = find_claims(text)
    assert (claim.currency, claim.direction) == (currency, direction)


@pytest.mark.parametrize("text", [
    "ACC-1234 and MER-4417", "rule KYC-103", "US-East", "in H1", "Q4 results", "see [#123]", "1. first\n2. second",
    "3DS checks", "the 5th case", "a 12-month window", "24/7 monitoring", "at 12:30", "v2.1", "the top 3 merchants",
    "one of them", "a two-factor prompt", "#4417", "CVE-2025-1234", "mid-2025", "COVID-19",
])
def test_identifiers_and_structure_are_no_claims(text: str) -> None:
    assert find_claims(text) == []


def test_a_text_with_correct_figures_passes_unchanged() -> None:
    check = check_text(SUMMARY, FACTS, ALLOWED)
    assert check.text == SUMMARY
    assert check.unsupported == [] and check.removed_citations == [] and check.sentences_removed == 0
    assert check.claims == 9  # 71, 41%, 12%, 0.003, $1.2M, $1,234.56, two dates and 2025; no id
    assert check.failed_share == 0.0 and check.notes() == []


def test_a_wrong_count_loses_exactly_its_bullet_and_is_reported() -> None:
    wrong = SUMMARY.replace("71 events", "72 events")
    check = check_text(wrong, FACTS, ALLOWED)
    bullet = "- 72 events matched, and fraud alerts make up 41% of them [#12].\n"
    assert check.text == wrong.replace(bullet, "")
    assert [c.text for c in check.unsupported] == ["72"]
    assert check.sentences_removed == 1
    assert check.failed_share == pytest.approx(1 / (9 + 3))
    assert check.notes() == ["removed a sentence stating 72, which matches no computed figure: "
                             f"“{bullet.strip()}”"]


def test_a_sentence_in_a_paragraph_goes_and_the_rest_stays_byte_identical() -> None:
    text = "There were 71 events, e.g. card fraud.  Of these, 70 were alerts! Losses were $1.2M.\nNext: 41.2% share."
    check = check_text(text, FACTS, ALLOWED)
    assert check.text == "There were 71 events, e.g. card fraud.  Losses were $1.2M.\nNext: 41.2% share."
    last = check_text("Losses were $1.2M. Of these, 70 were alerts.\n", FACTS, ALLOWED)
    assert last.text == "Losses were $1.2M.\n"


def test_a_paragraph_that_goes_whole_leaves_no_doubled_blank_line() -> None:
    text = "Intro with 71 events.\n\nOnly 70 were alerts.\n\nClosing line."
    assert check_text(text, FACTS, ALLOWED).text == "Intro with 71 events.\n\nClosing line."
    assert check_text("Intro.\n\nOnly 70 were alerts.", FACTS, ALLOWED).text == "Intro.\n"


@pytest.mark.parametrize(("claim", "ok"), [
    ("41%", True), ("41.2%", True), ("about 40%", True), ("over 41%", True), ("nearly 42%", True), ("over 42%", False),
    ("43%", False), ("41.3%", False), ("42%", False), ("under 41%", False),
    ("down 12%", True), ("-12%", True), ("12%", True), ("a 12% decline", True),
    ("rose 12%", False), ("+12%", False), ("-13%", False),
])
def test_percentages_are_held_to_shares_and_changes(claim: str, ok: bool) -> None:
    check = check_text(f"Alerts: {claim}.", FACTS, ALLOWED)
    assert (check.unsupported == []) is ok


@pytest.mark.parametrize(("claim", "ok"), [
    ("$1.2M", True), ("$1.23M", True), ("USD 1,234,567", True), ("$1,234.56", True), ("$1,235", True),
    ("about $1,200", True), ("under $10,000", False),
    ("$1.3M", False), ("$1.24M", False), ("€1.2M", False), ("$1,234.57", False), ("$1,236", False), ("$71", False),
])
def test_amounts_are_held_to_amount_facts_in_their_currency(claim: str, ok: bool) -> None:
    check = check_text(f"Losses: {claim}.", FACTS, ALLOWED)
    assert (check.unsupported == []) is ok


@pytest.mark.parametrize(("claim", "ok"), [
    ("3 November 2025", True), ("November 3, 2025", True), ("2025-11-03", True), ("Nov 2025", True),
    ("October 2025", True), ("Q4 2025", True), ("in 2025", True), ("Nov 3", True),
    ("4 November 2025", False), ("2025-11-04", False), ("Dec 2025", False), ("in 2024", False),
    ("1 October 2025", False), ("Q1 2024", False),
])
def test_dates_are_held_to_date_facts(claim: str, ok: bool) -> None:
    check = check_text(f"Peak: {claim}.", FACTS, ALLOWED)
    assert (check.unsupported == []) is ok


@pytest.mark.parametrize(("claim", "ok"), [
    ("71 events", True), ("seventy-one events", True), ("over 70 events", True), ("about 70 events", True),
    ("72 events", False), ("70 events", False), ("sixty events", False), ("nearly 72 events", False),
    ("p < 0.05", True), ("p = 0.003", True), ("p = 0.03", False),
])
def test_counts_and_near_misses(claim: str, ok: bool) -> None:
    check = check_text(f"We found {claim}.", FACTS, ALLOWED)
    assert (check.unsupported == []) is ok


def test_a_range_keeps_both_ends() -> None:
    assert [(c.text, c.value) for c in find_claims("losses of $12.5k-$15k over 10-20 days")] == [
        ("$12.5k", 12500.0), ("$15k", 15000.0), ("10", 10.0), ("20", 20.0)]


def test_a_month_and_a_count_run_together_may_be_either() -> None:
    twelve = [*FACTS, Fact(key="matched.category[chargeback].count", label="chargebacks", value=12, kind="count")]
    assert [c.value for c in find_claims("In November 12 events")] == ["--11-12"]
    assert check_text("In November 12 events were flagged.", twelve, ALLOWED).unsupported == []
    assert check_text("In November 13 events were flagged.", twelve, ALLOWED).sentences_removed == 1
    assert check_text("In November 3 events were flagged.", FACTS, ALLOWED).unsupported == []  # the peak day


def test_numbers_the_analyst_gave_are_not_flagged() -> None:
    text = "All 71 events were under 10,000 (10k) in the last 90 days of 2024."
    assert check_text(text, FACTS, ALLOWED, given="alerts under 10k in the last 90 days in 2024").text == text
    assert [c.text for c in check_text(text, FACTS, ALLOWED).unsupported] == ["10,000", "10k", "90", "2024"]


def test_a_p_bound_needs_a_p_value() -> None:
    facts = [f for f in FACTS if f.kind != "p_value"]
    assert check_text("The change is significant (p < 0.05).", facts, ALLOWED).sentences_removed == 1


def test_an_invented_citation_is_removed_without_leaving_double_spaces() -> None:
    text = "71 events matched [#12] [#999999] and 41% were fraud [#999999].\n[#5] Start."
    check = check_text(text, FACTS, ALLOWED)
    assert check.text == "71 events matched [#12] and 41% were fraud.\nStart."
    assert check.removed_citations == [999999, 5]
    assert check.notes() == ["removed citations of events that were not retrieved: [999999, 5]"]
    assert check.failed_share == pytest.approx(2 / (2 + 3))


def test_check_citations_splits_valid_from_invalid_in_order() -> None:
    assert check_citations("a [#14] b [#7] c [#12] d [#14] e [#7, #13]", ALLOWED) == ([14, 12, 13], [7])
    assert check_text("One case [#7, #13].", FACTS, ALLOWED).text == "One case [#13]."


def test_nothing_checked_fails_nothing() -> None:
    check = check_text("No figures here.", [], set())
    assert (check.claims, check.failed_share, check.text) == (0, 0.0, "No figures here.")
