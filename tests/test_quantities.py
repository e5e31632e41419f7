"""Counts bound to numeric attributes: formats, comparisons, binding to the named field, and what stays money."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

from assistant.quantities import QuantityMatch, quantities_in_text

FIELDS: dict[str, list[str]] = {
    "attributes.units_affected": [],
    "attributes.accounts_affected": [],
    "attributes.customers_affected": [],
    "attributes.score_drop": [],
    "attributes.records_exposed": [],
    "attributes.product_quantity": [],
    "attributes.employeeCount": ["staff", "headcount"],
    "attributes.score_drop_pct": [],
}


def only(text: str, fields: dict[str, list[str]] = FIELDS) -> tuple[str, str, str | list[str]]:
    """The one comparison read from the text, as (field, op, value)."""
    found = quantities_in_text(text, fields)
    assert len(found) == 1, found
    return found[0].field, found[0].op, found[0].value


FORMATS = [
    ("more than 5,000 units", "5000"),
    ("more than 1,250,000 units", "1250000"),
    ("more than 1.5 units", "1.5"),
    ("more than 1,500.5 units", "1500.5"),
    ("more than 50k units", "50000"),
    ("more than 50K units", "50000"),
    ("more than 2M units", "2000000"),
    ("more than 1.5m units", "1500000"),
    ("more than 3mn units", "3000000"),
    ("more than 2bn units", "2000000000"),
    ("more than 2b units", "2000000000"),
    ("more than 5 thousand units", "5000"),
    ("more than 1.5 million units", "1500000"),
    ("more than 2 billion units", "2000000000"),
    ("more than two million units", "2000000"),
    ("more than five thousand units", "5000"),
    ("more than twenty-five units", "25"),
    ("more than twenty five units", "25"),
    ("more than one hundred and twenty units", "120"),
    ("more than a million units", "1000000"),
    ("more than a thousand units", "1000"),
    ("more than half a million units", "500000"),
    ("more than Two Million units", "2000000"),
]


@pytest.mark.parametrize(("text", "value"), FORMATS)
def test_number_formats_become_plain_decimal_strings(text: str, value: str) -> None:
    assert only(text) == ("attributes.units_affected", "gt", value)


COMPARISONS = [
    ("more than 500 units", "gt"),
    ("greater than 500 units", "gt"),
    ("over 500 units", "gt"),
    ("above 500 units", "gt"),
    ("exceeding 500 units", "gt"),
    ("in excess of 500 units", "gt"),
    ("just over 500 units", "gt"),
    ("> 500 units", "gt"),
    ("at least 500 units", "gte"),
    ("no fewer than 500 units", "gte"),
    ("no less than 500 units", "gte"),
    ("upwards of 500 units", "gte"),
    ("500+ units", "gte"),
    ("500 or more units", "gte"),
    ("500 and above units", "gte"),
    (">=500 units", "gte"),
    ("under 500 units", "lt"),
    ("below 500 units", "lt"),
    ("less than 500 units", "lt"),
    ("fewer than 500 units", "lt"),
    ("just under 500 units", "lt"),
    ("<500 units", "lt"),
    ("at most 500 units", "lte"),
    ("up to 500 units", "lte"),
    ("no more than 500 units", "lte"),
    ("500 or fewer units", "lte"),
    ("exactly 500 units", "eq"),
    ("precisely 500 units", "eq"),
    # A bare size reads as "at least": analysts say "recalls of 500 units" for recalls that big.
    ("recalls of 500 units", "gte"),
]


@pytest.mark.parametrize(("text", "op"), COMPARISONS)
def test_each_comparison_has_its_operator(text: str, op: str) -> None:
    assert only(text) == ("attributes.units_affected", op, "500")


RANGES = [
    ("between 100 and 500 units", ["100", "500"]),
    ("between 500 and 100 units", ["100", "500"]),
    ("from 1k to 5k units", ["1000", "5000"]),
    ("between 1 and 2 million units", ["1000000", "2000000"]),
    ("between 500 and 2 million units", ["500", "2000000"]),
    ("between one hundred and two hundred units", ["100", "200"]),
    ("100-500 units", ["100", "500"]),
    ("100 to 500 units", ["100", "500"]),
    ("1k – 5k units", ["1000", "5000"]),
]


@pytest.mark.parametrize(("text", "value"), RANGES)
def test_ranges_are_inclusive_between(text: str, value: list[str]) -> None:
    assert only(text) == ("attributes.units_affected", "between", value)


BINDINGS = [
    ("recalls of more than two million units", "attributes.units_affected", "gt", "2000000"),
    ("50k+ accounts affected", "attributes.accounts_affected", "gte", "50000"),
    ("at least 5,000 customers", "attributes.customers_affected", "gte", "5000"),
    ("over 5,000 affected customers", "attributes.customers_affected", "gt", "5000"),
    ("over 1.5M records exposed", "attributes.records_exposed", "gt", "1500000"),
    ("fewer than 10 employees", "attributes.employeeCount", "lt", "10"),
    ("a staff of at least 50", "attributes.employeeCount", "gte", "50"),
    ("headcount under 20", "attributes.employeeCount", "lt", "20"),
    ("quantities of more than 500", "attributes.product_quantity", "gt", "500"),
    ("product quantity above 10000 this year", "attributes.product_quantity", "gt", "10000"),
    ("units of more than 2 million", "attributes.units_affected", "gt", "2000000"),
    ("units affected exceeded 1M", "attributes.units_affected", "gt", "1000000"),
    ("customers affected: over 5,000", "attributes.customers_affected", "gt", "5000"),
    ("score drop over 80", "attributes.score_drop", "gt", "80"),
    ("score drop over 80 this quarter", "attributes.score_drop", "gt", "80"),
    ("scores that dropped by 80 points", "attributes.score_drop", "gte", "80"),
    ("score dropped 80 points", "attributes.score_drop", "gte", "80"),
    ("drops of 80+ points", "attributes.score_drop", "gte", "80"),
    ("scores that fell more than 80 points", "attributes.score_drop", "gt", "80"),
    ("a score decline of 80", "attributes.score_drop", "gte", "80"),
    ("score drops of over 20%", "attributes.score_drop_pct", "gt", "20"),
    ("recalls with more than 2M units in Q3 2024", "attributes.units_affected", "gt", "2000000"),
    ("more than 2000 accounts in 2019", "attributes.accounts_affected", "gt", "2000"),
    ("more than 2,019 units", "attributes.units_affected", "gt", "2019"),
    ("two million units recalled", "attributes.units_affected", "gte", "2000000"),
    ("half a million records exposed", "attributes.records_exposed", "gte", "500000"),
    ("at least one customer", "attributes.customers_affected", "gte", "1"),
    ("twenty-five customers", "attributes.customers_affected", "gte", "25"),
]


@pytest.mark.parametrize(("text", "field", "op", "value"), BINDINGS)
def test_number_binds_to_the_field_it_names(text: str, field: str, op: str, value: str) -> None:
    assert only(text) == (field, op, value)


NOTHING = [
    "over $5k",
    "over $5,000 in fees",
    "above 10,000 dollars",
    "just under 10k",
    "amounts above 10,000",
    "between $1k and $10k",
    "more than USD 5000 units",
    "more than 3 alerts",
    "accounts with over 5 alerts",
    "500 complaints from customers",
    "top 20 events",
    "the first 5 customers",
    "5th customer",
    "one of the recalls",
    "one customer",
    "recalls in 2019",
    "between 2019 and 2021",
    "accounts affected from 2019 to 2021",
    "account #1234",
    "account ACC-1234",
    "account 1234",
    "over 80%",
    "over 50 percent of customers",
    "over 80 points",
    "over 3 years",
    "more than five six units",
    "",
]


@pytest.mark.parametrize("text", NOTHING)
def test_money_years_ids_and_unnamed_counts_bind_nothing(text: str) -> None:
    assert quantities_in_text(text, FIELDS) == []


def test_no_numeric_fields_means_no_quantities() -> None:
    assert quantities_in_text("more than two million units", {}) == []


def test_span_covers_the_comparison_not_the_field_words() -> None:
    text = "recalls of more than two million units"
    [match] = quantities_in_text(text, FIELDS)
    assert (match.phrase, text[match.start:match.end]) == ("more than two million", "more than two million")


def test_several_quantities_come_back_in_text_order() -> None:
    found = quantities_in_text("over 5,000 customers and fewer than 100 employees", FIELDS)
    assert [(q.field, q.op, q.value) for q in found] == [
        ("attributes.customers_affected", "gt", "5000"), ("attributes.employeeCount", "lt", "100")]


def test_a_tie_returns_every_tied_field_with_split_certainty() -> None:
    found = quantities_in_text("more than 5,000 affected", FIELDS)
    assert {q.field for q in found} == {"attributes.units_affected", "attributes.accounts_affected",
                                        "attributes.customers_affected"}
    assert {(q.start, q.end) for q in found} == {(0, 15)}
    assert all(q.certainty < 0.5 for q in found)


def test_the_field_with_more_shared_words_wins() -> None:
    # "affected" is shared by three fields; "accounts" settles it.
    assert only("50k+ accounts affected")[0] == "attributes.accounts_affected"


def test_words_after_the_number_win_over_words_before() -> None:
    assert only("accounts with more than 5,000 records exposed")[0] == "attributes.records_exposed"


def test_explicit_comparisons_are_surer_than_bare_sizes() -> None:
    def certainty(text: str) -> float:
        [match] = quantities_in_text(text, FIELDS)
        return match.certainty

    assert certainty("more than 2 million units") > certainty("units of more than 2 million")
    assert certainty("units of more than 2 million") > certainty("recalls of 2 million units")
    assert certainty("recalls of 2 million units") > 0


def test_declared_names_bind_like_the_key() -> None:
    fields = {"attributes.qty": ["units recalled"]}
    assert only("over 2 million units recalled", fields) == ("attributes.qty", "gt", "2000000")


def test_camel_case_keys_are_split_into_words() -> None:
    fields = {"attributes.unitsAffected": []}
    assert only("at least 300 units", fields) == ("attributes.unitsAffected", "gte", "300")


def test_a_match_is_frozen() -> None:
    [match] = quantities_in_text("over 500 units", FIELDS)
    assert isinstance(match, QuantityMatch)
    with pytest.raises(FrozenInstanceError):
        match.value = "1"  # type: ignore[misc]
