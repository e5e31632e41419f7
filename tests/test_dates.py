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


# Relative periods added with number words, "so far", half years, year spans and "after"; AS_OF = 2026-11-22.
RELATIVE = [
    ("the last nine months", "2026-02-23", "2026-11-23"),
    ("past three years", "2023-11-23", "2026-11-23"),
    ("previous eighteen months", "2025-05-23", "2026-11-23"),
    ("last 2 years", "2024-11-23", "2026-11-23"),
    ("the past twelve weeks", "2026-08-31", "2026-11-23"),
    ("last twenty days", "2026-11-03", "2026-11-23"),
    ("last twenty-four months", "2024-11-23", "2026-11-23"),
    ("last twenty four months", "2024-11-23", "2026-11-23"),
    ("over the last 36 months", "2023-11-23", "2026-11-23"),
    ("last thirty days", "2026-10-24", "2026-11-23"),
    ("past forty-five days", "2026-10-09", "2026-11-23"),
    ("last sixty days", "2026-09-24", "2026-11-23"),
    ("last ninety days", "2026-08-25", "2026-11-23"),
    ("past ninety-nine days", "2026-08-16", "2026-11-23"),
    ("last thirteen weeks", "2026-08-24", "2026-11-23"),
    ("trailing eleven months", "2025-12-23", "2026-11-23"),
    ("the last year and a half", "2025-05-23", "2026-11-23"),
    ("past two and a half years", "2024-05-23", "2026-11-23"),
    ("ytd", "2026-01-01", "2026-11-23"),
    ("so far this year", "2026-01-01", "2026-11-23"),
    ("this year so far", "2026-01-01", "2026-11-23"),
    ("this year to date", "2026-01-01", "2026-11-23"),
    ("quarter to date", "2026-10-01", "2026-11-23"),
    ("this quarter so far", "2026-10-01", "2026-11-23"),
    ("month to date", "2026-11-01", "2026-11-23"),
    ("month-to-date", "2026-11-01", "2026-11-23"),
    ("MTD", "2026-11-01", "2026-11-23"),
    ("so far this month", "2026-11-01", "2026-11-23"),
    ("from 2014 through 2016", "2014-01-01", "2017-01-01"),
    ("from 2014 to 2016", "2014-01-01", "2017-01-01"),
    ("2014-2016", "2014-01-01", "2017-01-01"),
    ("2014–2016", "2014-01-01", "2017-01-01"),
    ("2014 - 2016", "2014-01-01", "2017-01-01"),
    ("between 2015 and 2017", "2015-01-01", "2018-01-01"),
    ("2015 thru 2017", "2015-01-01", "2018-01-01"),
    ("complaints from 2015 through 2017", "2015-01-01", "2018-01-01"),
    ("from March to June 2019", "2019-03-01", "2019-07-01"),
    ("March through June 2019", "2019-03-01", "2019-07-01"),
    ("after 2019", "2020-01-01", "2026-11-23"),
    ("after March 2026", "2026-04-01", "2026-11-23"),
    ("since the March 2025 incident", "2025-03-01", "2026-11-23"),
]


@pytest.mark.parametrize("text, start, end", RELATIVE)
def test_relative_periods(text: str, start: str, end: str) -> None:
    assert span_of(text) == (start, end)


# Seasons (meteorological), the holidays, shopping days, early/mid/late YEAR; AS_OF = 2026-11-22, inside fall 2026
# and the 2026 holiday season, before Thanksgiving 2026 (Nov 26).
SEASONS = [
    ("this spring", "2026-03-01", "2026-06-01"),
    ("last spring", "2026-03-01", "2026-06-01"),  # the latest that has ended
    ("last summer", "2026-06-01", "2026-09-01"),
    ("this past summer", "2026-06-01", "2026-09-01"),
    ("previous summer", "2026-06-01", "2026-09-01"),
    ("next summer", "2027-06-01", "2027-09-01"),
    ("this fall", "2026-09-01", "2026-12-01"),  # whole, though as_of is inside it
    ("last fall", "2025-09-01", "2025-12-01"),
    ("this winter", "2025-12-01", "2026-03-01"),  # winter 2026-27 has not begun
    ("last winter", "2025-12-01", "2026-03-01"),
    ("next winter", "2026-12-01", "2027-03-01"),
    ("in the fall", "2026-09-01", "2026-12-01"),
    ("fraud during the summer, by merchant", "2026-06-01", "2026-09-01"),
    ("in the fall of 2019", "2019-09-01", "2019-12-01"),
    ("autumn 2023", "2023-09-01", "2023-12-01"),
    ("spring of 2020", "2020-03-01", "2020-06-01"),
    ("summer 2019", "2019-06-01", "2019-09-01"),
    ("the 2019 summer", "2019-06-01", "2019-09-01"),
    ("winter 2022", "2022-12-01", "2023-03-01"),
    ("winter 2022-23", "2022-12-01", "2023-03-01"),
    ("winter of 2022/2023", "2022-12-01", "2023-03-01"),
    ("winter 2023", "2023-12-01", "2024-03-01"),  # Feb 29 2024 included
    ("summer of last year", "2025-06-01", "2025-09-01"),
    ("last year's fall", "2025-09-01", "2025-12-01"),
    ("since the spring", "2026-03-01", "2026-11-23"),
    ("since spring 2025", "2025-03-01", "2026-11-23"),
    ("from spring to fall 2019", "2019-03-01", "2019-12-01"),
    ("from the summer to the fall", "2026-06-01", "2026-12-01"),
    ("between spring and fall", "2026-03-01", "2026-12-01"),
    ("summer 2019 through winter 2019", "2019-06-01", "2020-03-01"),
    ("over the holidays", "2026-11-15", "2027-01-02"),
    ("during the holidays", "2026-11-15", "2027-01-02"),
    ("the holiday season", "2026-11-15", "2027-01-02"),
    ("this holiday season", "2026-11-15", "2027-01-02"),
    ("last holiday season", "2025-11-15", "2026-01-02"),
    ("last year's holidays", "2025-11-15", "2026-01-02"),
    ("the 2019 holidays", "2019-11-15", "2020-01-02"),
    ("holidays 2019", "2019-11-15", "2020-01-02"),
    ("the 2019 holiday season", "2019-11-15", "2020-01-02"),
    ("holiday season 2019", "2019-11-15", "2020-01-02"),
    ("Christmas 2019", "2019-12-25", "2019-12-26"),
    ("Christmas Day 2019", "2019-12-25", "2019-12-26"),
    ("Christmas Eve 2019", "2019-12-24", "2019-12-25"),
    ("on Christmas", "2025-12-25", "2025-12-26"),
    ("last Christmas", "2025-12-25", "2025-12-26"),
    ("after Christmas 2025", "2025-12-26", "2026-11-23"),
    ("Thanksgiving 2026", "2026-11-26", "2026-11-27"),
    ("Thanksgiving 2024", "2024-11-28", "2024-11-29"),
    ("Black Friday 2019", "2019-11-29", "2019-11-30"),
    ("fraud on Black Friday", "2025-11-28", "2025-11-29"),  # Black Friday 2026 (Nov 27) is still to come
    ("Cyber Monday 2025", "2025-12-01", "2025-12-02"),
    ("from Black Friday to Cyber Monday 2025", "2025-11-28", "2025-12-02"),
    ("between Thanksgiving and Christmas 2025", "2025-11-27", "2025-12-26"),
    ("New Year's Eve 2019", "2019-12-31", "2020-01-01"),
    ("New Year's Day 2020", "2020-01-01", "2020-01-02"),
    ("since mid-2019", "2019-07-01", "2026-11-23"),  # mid-YEAR as a point in time: July 1
    ("since early 2020", "2020-01-01", "2026-11-23"),
    ("since late 2018", "2018-09-01", "2026-11-23"),
    ("mid-2019", "2019-05-01", "2019-09-01"),
    ("in early 2021", "2021-01-01", "2021-05-01"),
    ("late 2019", "2019-09-01", "2020-01-01"),
    ("mid 2020", "2020-05-01", "2020-09-01"),
    ("late last year", "2025-09-01", "2026-01-01"),
    ("early this year", "2026-01-01", "2026-05-01"),
    ("from early 2019 to mid-2020", "2019-01-01", "2020-09-01"),
]


@pytest.mark.parametrize("text, start, end", SEASONS)
def test_seasons_holidays_and_parts_of_years(text: str, start: str, end: str) -> None:
    assert span_of(text) == (start, end)


SEASON_EDGES = [
    # as_of on a season's first day: it has begun; inside it: still the whole season.
    ("this spring", "2026-03-01", "2026-03-01", "2026-06-01"),
    ("this spring", "2026-02-28", "2025-03-01", "2025-06-01"),
    ("this spring", "2026-04-15", "2026-03-01", "2026-06-01"),
    ("this spring", "2025-07-01", "2025-03-01", "2025-06-01"),
    ("last spring", "2026-04-15", "2025-03-01", "2025-06-01"),  # this spring has not ended
    ("last spring", "2026-06-01", "2026-03-01", "2026-06-01"),  # it ended the day before
    ("last summer", "2026-07-15", "2025-06-01", "2025-09-01"),
    ("last winter", "2025-06-30", "2024-12-01", "2025-03-01"),
    ("this winter", "2027-01-10", "2026-12-01", "2027-03-01"),
    ("last winter", "2027-01-10", "2025-12-01", "2026-03-01"),
    ("next spring", "2026-04-15", "2027-03-01", "2027-06-01"),
    ("in the fall", "2026-08-31", "2025-09-01", "2025-12-01"),
    # The holidays: the latest season begun by as_of, and it includes New Year's Day.
    ("over the holidays", "2026-11-14", "2025-11-15", "2026-01-02"),
    ("over the holidays", "2026-11-15", "2026-11-15", "2027-01-02"),
    ("over the holidays", "2027-01-01", "2026-11-15", "2027-01-02"),
    ("over the holidays", "2020-01-15", "2019-11-15", "2020-01-02"),
    ("since the holidays", "2027-01-10", "2026-11-15", "2027-01-11"),
    ("after the holidays", "2027-01-10", "2027-01-02", "2027-01-11"),
    ("on Black Friday", "2026-11-27", "2026-11-27", "2026-11-28"),
    ("last Christmas", "2026-12-25", "2025-12-25", "2025-12-26"),  # on the day, it has not passed
    ("last Christmas", "2026-12-26", "2026-12-25", "2026-12-26"),
    ("since mid-2024", "2026-01-10", "2024-07-01", "2026-01-11"),
    ("the last nine months", "2020-03-31", "2019-07-01", "2020-04-01"),
    ("so far this year", "2026-01-01", "2026-01-01", "2026-01-02"),
]


@pytest.mark.parametrize("text, as_of, start, end", SEASON_EDGES)
def test_season_edges(text: str, as_of: str, start: str, end: str) -> None:
    assert span_of(text, D(as_of)) == (start, end)


@pytest.mark.parametrize("text", [
    "recently", "in recent weeks", "the last few months", "the last couple of weeks", "last several years",
    "last month and a half", "last two and a half months", "spring water contamination",
    "contamination in spring water", "spring-loaded latches", "springtime scams", "the fall in fraud",
    "a sharp fall in chargebacks", "since the fall of the bank", "Black Friday deals", "holidays fraud",
    "holiday fraud", "scams over Black Friday weekend", "Black Friday weekend 2019", "Christmas week 2019",
    "during the Christmas break", "fraud over Christmas", "fraud around Christmas 2019", "pre-Christmas scams",
    "Easter 2020", "Lunar New Year 2021", "New Year 2020", "winter 2022-24", "summer 2019-20", "2014-16",
    "2016-2014", "before March 2026", "until June 2026", "by Q4 2025", "prior to 2020", "last 5000 years",
    "early 2000 dollars", "2000-2010 dollars", "past twenty merchants", "the last 3 accounts",
    "after the holidays",  # as_of is inside them: nothing after them yet
])
def test_vague_or_open_phrases_are_not_read(text: str) -> None:
    assert resolve_dates(text, AS_OF) is None


@pytest.mark.parametrize("text, expected", [
    ("did fraud fall last year", ("2025-01-01", "2026-01-01")),  # the verb: "last year" is the date
    ("the fall in fraud since 2019", ("2019-01-01", "2026-11-23")),
    ("bank holidays 2019", ("2019-01-01", "2020-01-01")),  # not the holiday season: the year
    ("top 20 merchants in the last nine months", ("2026-02-23", "2026-11-23")),
    ("twenty-four alerts in the last thirty days", ("2026-10-24", "2026-11-23")),
    ("accounts with more than 3 alerts in fall 2025", ("2025-09-01", "2025-12-01")),
    ("over 2019 dollars in winter 2022", ("2022-12-01", "2023-03-01")),
    ("more than 2000 chargebacks since mid-2019", ("2019-07-01", "2026-11-23")),
])
def test_words_and_numbers_that_are_not_the_period(text: str, expected: tuple[str, str]) -> None:
    assert span_of(text) == expected


@pytest.mark.parametrize("text, label", [
    ("winter 2022", "winter 2022 = winter 2022-23 (2022-12-01 to 2023-02-28)"),
    ("last summer", "last summer = summer 2026 (2026-06-01 to 2026-08-31)"),
    ("the 2019 holidays", "2019 holidays = the 2019 holiday season (2019-11-15 to 2020-01-01)"),
    ("Christmas 2019", "Christmas 2019 = Christmas Day 2019 (2019-12-25)"),
    ("since mid-2019", "since mid-2019 = 2019-07-01 to 2026-11-22"),
    ("so far this year", "so far this year = 2026 to date (2026-01-01 to 2026-11-22)"),
    ("2014-2016", "2014-2016 = 2014-01-01 to 2016-12-31"),
])
def test_labels_of_new_phrases(text: str, label: str) -> None:
    found = resolve_dates(text, AS_OF)
    assert found is not None and found.label == label


@pytest.mark.parametrize("text, note", [
    ("winter 2022", "winter 2022 is the one that begins in December 2022 and ends in February 2023"),
    ("fall 2019", "seasons are meteorological (northern hemisphere): spring Mar-May, summer Jun-Aug, fall Sep-Nov, "
                  "winter Dec-Feb"),
    ("last summer", "last summer read as summer 2026, the latest that ended by 2026-11-22"),
    ("this spring", "this spring read as spring 2026, the latest that began by 2026-11-22"),
    ("next winter", "next winter read as winter 2026-27, the first that begins after 2026-11-22"),
    ("in the fall", "bare fall read as fall 2026, the latest that began by 2026-11-22"),
    ("over the holidays", "the holidays read as the US holiday season, November 15 through New Year's Day"),
    ("Christmas 2019", "Christmas read as Christmas Day, December 25; 'the holidays' is the season"),
    ("Black Friday 2019", "Thanksgiving is the US one, the fourth Thursday of November; Black Friday is the day "
                          "after it, Cyber Monday the Monday after it"),
    ("since mid-2019", "as a point in time mid-2019 is 2019-07-01, the middle of the year"),
    ("late 2019", "early, mid and late YEAR read as its thirds: Jan-Apr, May-Aug, Sep-Dec"),
    ("the last nine months", "rolling: up to and including 2026-11-22, not whole calendar months"),
    ("past month", "rolling: up to and including 2026-11-22, not whole calendar months"),
])
def test_notes_state_each_reading_that_was_a_choice(text: str, note: str) -> None:
    found = resolve_dates(text, AS_OF)
    assert found is not None and note in found.notes


def test_a_range_of_seasons_notes_the_reading_once() -> None:
    found = resolve_dates("from spring to fall 2019", AS_OF)
    assert found is not None and len(found.notes) == len(set(found.notes)) == 1


def test_fiscal_so_far_and_seasons_with_an_october_year() -> None:
    assert span_of("so far this fiscal year", fiscal_start=10) == ("2026-10-01", "2026-11-23")
    assert span_of("this spring", fiscal_start=10) == ("2026-03-01", "2026-06-01")


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
    ("debt collection complaints over the holidays", "over the holidays"),
    ("fraud in the fall of 2019 at MER-1", "in the fall of 2019"),
    ("vehicle loan complaints since mid-2019", "since mid-2019"),
    ("recalls by Illinois firms this spring", "this spring"),
    ("complaints from 2015 through 2017 by state", "from 2015 through 2017"),
    ("alerts so far this year on wires", "so far this year"),
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
