"""Date phrases resolved to half-open ranges: absolute, fiscal, relative, and what is not a date."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.dates import resolve_dates

from .conftest import AS_OF

D = dt.date.fromisoformat


def span_of(text: str, as_of: dt.date = AS_OF, fiscal_start: int = 1) -> tuple[str, str] | None:
    """(start, end) of the phrase read from the text, ISO dates, end exclusive; None when no date."""
    found = resolve_dates(text, as_of, fiscal_start)
    return None if found is None else (found.start.isoformat(), found.end.isoformat())


# (text, start, end) read with AS_OF = 2026-11-22 (a Sunday) and fiscal years starting in January.
CALENDAR = [
    ("events on 2025-03-14", "2025-03-14", "2025-03-15"),
    ("2024-02-29 logins", "2024-02-29", "2024-03-01"),
    ("from 2025-01-01 to 2025-03-31", "2025-01-01", "2025-04-01"),
    ("2025-01-01 to 2025-03-31", "2025-01-01", "2025-04-01"),
    ("between March 1 and March 15 2026", "2026-03-01", "2026-03-16"),
    ("between March 1 and March 15", "2026-03-01", "2026-03-16"),
    ("between Dec 1 and Jan 15 2026", "2025-12-01", "2026-01-16"),
    ("from March to May 2026", "2026-03-01", "2026-06-01"),
    ("between 2024 and 2025", "2024-01-01", "2026-01-01"),
    ("from Q1 2025 to Q3 2025", "2025-01-01", "2025-10-01"),
    ("structuring in March 2026", "2026-03-01", "2026-04-01"),
    ("structuring in mar 2026", "2026-03-01", "2026-04-01"),
    ("Sept 2025 chargebacks", "2025-09-01", "2025-10-01"),
    ("14 March 2026", "2026-03-14", "2026-03-15"),
    ("March 14, 2026", "2026-03-14", "2026-03-15"),
    ("fraud in March", "2026-03-01", "2026-04-01"),
    ("fraud in November", "2026-11-01", "2026-12-01"),
    ("fraud in December", "2025-12-01", "2026-01-01"),
    ("fraud in may", "2026-05-01", "2026-06-01"),
    ("Feb 29 outage", "2024-02-29", "2024-03-01"),
    ("fraud in 2025", "2025-01-01", "2026-01-01"),
    ("2025 chargebacks", "2025-01-01", "2026-01-01"),
    ("more than 2000 dollars in 2025", "2025-01-01", "2026-01-01"),
    ("Q4 2025", "2025-10-01", "2026-01-01"),
    ("2025 Q4", "2025-10-01", "2026-01-01"),
    ("Q4 of 2025", "2025-10-01", "2026-01-01"),
    ("Q3-2026", "2026-07-01", "2026-10-01"),
    ("Q4", "2026-10-01", "2027-01-01"),
    ("Q1", "2026-01-01", "2026-04-01"),
    ("third quarter of 2025", "2025-07-01", "2025-10-01"),
    ("H1 2026", "2026-01-01", "2026-07-01"),
    ("H2 2025", "2025-07-01", "2026-01-01"),
    ("first half of 2026", "2026-01-01", "2026-07-01"),
    ("second half of 2025", "2025-07-01", "2026-01-01"),
    ("FY2026 Q1", "2026-01-01", "2026-04-01"),
    ("FY2026", "2026-01-01", "2027-01-01"),
    ("last quarter", "2026-07-01", "2026-10-01"),
    ("this quarter", "2026-10-01", "2027-01-01"),
    ("next quarter", "2027-01-01", "2027-04-01"),
    ("last month", "2026-10-01", "2026-11-01"),
    ("this month", "2026-11-01", "2026-12-01"),
    ("next month", "2026-12-01", "2027-01-01"),
    ("last year", "2025-01-01", "2026-01-01"),
    ("this year", "2026-01-01", "2027-01-01"),
    ("last week", "2026-11-09", "2026-11-16"),
    ("yesterday", "2026-11-21", "2026-11-22"),
    ("today", "2026-11-22", "2026-11-23"),
    ("in the last 90 days", "2026-08-25", "2026-11-23"),
    ("past 2 weeks", "2026-11-09", "2026-11-23"),
    ("over the past two weeks", "2026-11-09", "2026-11-23"),
    ("last 6 months", "2026-05-23", "2026-11-23"),
    ("past month", "2026-10-23", "2026-11-23"),
    ("YTD", "2026-01-01", "2026-11-23"),
    ("year to date", "2026-01-01", "2026-11-23"),
    ("year-to-date", "2026-01-01", "2026-11-23"),
    ("QTD", "2026-10-01", "2026-11-23"),
    ("since March", "2026-03-01", "2026-11-23"),
    ("since December", "2025-12-01", "2026-11-23"),
    ("since March 2025", "2025-03-01", "2026-11-23"),
    ("since 2025-06-01", "2025-06-01", "2026-11-23"),
    ("since 2025", "2025-01-01", "2026-11-23"),
    ("since last month", "2026-10-01", "2026-11-23"),
]


@pytest.mark.parametrize("text, start, end", CALENDAR)
def test_calendar_phrases(text: str, start: str, end: str) -> None:
    assert span_of(text) == (start, end)


# The same AS_OF with fiscal years starting in October: FY2026 = 2025-10-01 .. 2026-09-30.
FISCAL_OCTOBER = [
    ("FY2026", "2025-10-01", "2026-10-01"),
    ("FY26", "2025-10-01", "2026-10-01"),
    ("fiscal 2026", "2025-10-01", "2026-10-01"),
    ("fiscal year 2025", "2024-10-01", "2025-10-01"),
    ("FY2026 Q1", "2025-10-01", "2026-01-01"),
    ("FY2026-Q3", "2026-04-01", "2026-07-01"),
    ("fiscal Q1 2026", "2025-10-01", "2026-01-01"),
    ("Q1 FY26", "2025-10-01", "2026-01-01"),
    ("Q4 of FY2026", "2026-07-01", "2026-10-01"),
    ("FY H2 2025", "2025-04-01", "2025-10-01"),
    ("first half of FY2026", "2025-10-01", "2026-04-01"),
    ("fiscal Q1", "2026-10-01", "2027-01-01"),  # FY2027 Q1 began 2026-10-01
    ("fiscal Q2", "2026-01-01", "2026-04-01"),  # FY2027 Q2 has not begun: FY2026 Q2
    ("fiscal YTD", "2026-10-01", "2026-11-23"),
    ("FYTD", "2026-10-01", "2026-11-23"),
    ("last fiscal year", "2025-10-01", "2026-10-01"),
    ("this fiscal year", "2026-10-01", "2027-10-01"),
    ("last fiscal quarter", "2026-07-01", "2026-10-01"),
    # No fiscal marker: calendar periods, whatever the fiscal year.
    ("YTD", "2026-01-01", "2026-11-23"),
    ("H1 2026", "2026-01-01", "2026-07-01"),
    ("Q4 2025", "2025-10-01", "2026-01-01"),
    ("first half of 2026", "2026-01-01", "2026-07-01"),
    ("last year", "2025-01-01", "2026-01-01"),
]


@pytest.mark.parametrize("text, start, end", FISCAL_OCTOBER)
def test_fiscal_phrases_with_an_october_year(text: str, start: str, end: str) -> None:
    assert span_of(text, fiscal_start=10) == (start, end)


def test_fiscal_years_are_calendar_years_when_they_start_in_january() -> None:
    assert span_of("fiscal Q1 2026") == ("2026-01-01", "2026-04-01")
    assert span_of("Q1 FY26") == ("2026-01-01", "2026-04-01")
    assert span_of("fiscal YTD") == ("2026-01-01", "2026-11-23")
    assert span_of("FY26 H2", fiscal_start=7) == ("2026-01-01", "2026-07-01")  # FY2026 = 2025-07-01 .. 2026-06-30


EDGES = [
    # as_of on a quarter's first day: that quarter has begun, the one before is whole.
    ("last quarter", "2026-10-01", "2026-07-01", "2026-10-01"),
    ("this quarter", "2026-10-01", "2026-10-01", "2027-01-01"),
    ("Q4", "2026-10-01", "2026-10-01", "2027-01-01"),
    ("Q4", "2026-09-30", "2025-10-01", "2026-01-01"),
    ("QTD", "2026-10-01", "2026-10-01", "2026-10-02"),
    ("last 90 days", "2026-10-01", "2026-07-04", "2026-10-02"),
    # January: last month and last quarter are in the year before.
    ("last month", "2026-01-15", "2025-12-01", "2026-01-01"),
    ("last month", "2026-01-01", "2025-12-01", "2026-01-01"),
    ("last quarter", "2026-01-15", "2025-10-01", "2026-01-01"),
    ("last year", "2026-01-01", "2025-01-01", "2026-01-01"),
    ("YTD", "2026-01-01", "2026-01-01", "2026-01-02"),
    ("since December", "2026-01-05", "2025-12-01", "2026-01-06"),
    # Leap years: 90 days back across Feb 29 2024, and the same dates a year later.
    ("last 90 days", "2024-03-01", "2023-12-03", "2024-03-02"),
    ("last 90 days", "2024-02-29", "2023-12-02", "2024-03-01"),
    ("last 90 days", "2025-03-01", "2024-12-02", "2025-03-02"),
    ("last 90 days", "2024-05-29", "2024-03-01", "2024-05-30"),
    ("last 6 months", "2024-08-30", "2024-02-29", "2024-08-31"),
    ("last 6 months", "2025-08-30", "2025-02-28", "2025-08-31"),
    ("since Feb 29", "2024-03-01", "2024-02-29", "2024-03-02"),
    ("Feb 29", "2027-03-01", "2024-02-29", "2024-03-01"),
    ("between Feb 28 and Feb 29 2024", "2024-05-01", "2024-02-28", "2024-03-01"),
]


@pytest.mark.parametrize("text, as_of, start, end", EDGES)
def test_edges(text: str, as_of: str, start: str, end: str) -> None:
    assert span_of(text, D(as_of)) == (start, end)


@pytest.mark.parametrize("text", [
    "events like #2024", "chargebacks on ACC-2025", "over 2000 dollars", "2000 USD wires", "more than 2000",
    "at least 2025", "between 2000 and 5000", "$2025 payments", "top 10 merchants", "card-not-present fraud",
    "accounts that may be compromised", "2026-02-30", "since 2030", "card-not-present fraud patterns",
    "between 1,000 and 10,000", "between $1k and $10k", "just under 10k", "anything odd?",
])
def test_not_dates(text: str) -> None:
    assert resolve_dates(text, AS_OF) is None


@pytest.mark.parametrize("text, fiscal_start, label", [
    ("last quarter", 1, "last quarter = Q3 2026 (2026-07-01 to 2026-09-30)"),
    ("Q4 2025", 1, "Q4 2025 = 2025-10-01 to 2025-12-31"),
    ("March 2026", 1, "March 2026 = 2026-03-01 to 2026-03-31"),
    ("2025", 1, "2025 = 2025-01-01 to 2025-12-31"),
    ("2025-03-14", 1, "2025-03-14"),
    ("last 90 days", 1, "last 90 days = 2026-08-25 to 2026-11-22"),
    ("YTD", 1, "YTD = 2026 to date (2026-01-01 to 2026-11-22)"),
    ("since March", 1, "since March = since March 2026 (2026-03-01 to 2026-11-22)"),
    ("Q1 FY26", 10, "Q1 FY26 = FY2026 Q1 (2025-10-01 to 2025-12-31)"),
    ("fiscal YTD", 10, "fiscal YTD = FY2027 to date (2026-10-01 to 2026-11-22)"),
])
def test_the_label_shows_what_the_phrase_was_read_as(text: str, fiscal_start: int, label: str) -> None:
    found = resolve_dates(text, AS_OF, fiscal_start)
    assert found is not None and found.label == label


def test_notes_explain_bare_periods_fiscal_years_and_calendar_quarters() -> None:
    bare = resolve_dates("Q4 fraud", D("2026-08-01"))
    assert bare is not None and bare.notes == ["bare Q4 read as Q4 2025, the latest that began by 2026-08-01"]
    fiscal = resolve_dates("FY2026 Q1", AS_OF, 10)
    assert fiscal is not None
    assert fiscal.notes == ["fiscal years are named by the year they end in: FY2026 runs 2025-10-01 to 2026-09-30"]
    calendar = resolve_dates("Q1 2026", AS_OF, 10)
    assert calendar is not None and any("calendar quarter" in n for n in calendar.notes)
    explicit = resolve_dates("Q1 2026", AS_OF)
    assert explicit is not None and explicit.notes == []


@pytest.mark.parametrize("text, phrase", [
    ("fraud in the last 90 days at merchants", "in the last 90 days"),
    ("chargebacks in Q4 2025 at MER-1", "in Q4 2025"),
    ("alerts between March 1 and March 15 2026 on wires", "between March 1 and March 15 2026"),
    ("fraud since March, by merchant", "since March"),
    ("2025 Q4 chargebacks", "2025 Q4"),
    ("first half of FY2026 complaints", "first half of FY2026"),
])
def test_the_span_covers_the_phrase_and_its_preposition(text: str, phrase: str) -> None:
    found = resolve_dates(text, AS_OF, 10)
    assert found is not None and text[found.span[0]:found.span[1]] == phrase


@pytest.mark.parametrize("text, expected", [
    ("Q4 2025 versus Q4 2024", ("2025-10-01", "2026-01-01")),  # the first phrase wins
    ("2024 and 2025", ("2024-01-01", "2025-01-01")),
    ("March 2026 vs 2025", ("2026-03-01", "2026-04-01")),  # at one position, the longest
    ("last 6 months of 2025", ("2026-05-23", "2026-11-23")),
])
def test_the_first_and_most_specific_phrase_wins(text: str, expected: tuple[str, str]) -> None:
    assert span_of(text) == expected


def test_a_fiscal_start_outside_1_to_12_is_refused() -> None:
    with pytest.raises(ValueError, match="fiscal_year_start_month"):
        resolve_dates("FY2026", AS_OF, 13)
