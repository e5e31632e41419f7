"""Date phrases in a question, resolved to half-open ranges of days [start, end).

The rules, which the planner's notes repeat where they matter:

* ``end`` is exclusive: the first day after the range.
* Fiscal years are named by the calendar year in which they END. With ``fiscal_year_start_month=10``
  FY2026 runs 2025-10-01 to 2026-09-30 and FY2026 Q1 is 2025-10-01 to 2025-12-31; with 1 (the
  default) fiscal and calendar years coincide. "FY26" is FY2026.
* Q1-Q4 and H1/H2 are calendar periods unless marked fiscal ("FY2026 Q1", "fiscal Q1 2026", "Q1 FY26").
* A period named without its year (bare "Q4", "March", "fiscal Q1") is the latest one that has begun
  by ``as_of``; a note says so.
* Rolling ranges end with ``as_of`` (end = as_of + 1 day): "last 90 days", "the last nine months",
  "previous eighteen months" (digits, or number words to ninety-nine) count back from as_of + 1 day,
  months and years to the same day of the month; "the last year and a half" is 18 months. "YTD", "so far
  this year", "month to date" start with the period. "since X" starts with X, "after X" after X ends.
  Named periods ("last quarter", "this month", "last year") are whole.
* "2014-2016", "from 2014 through 2016", "between 2014 and 2016", "March through June 2019" include both
  ends. Seasons, the holidays, Black Friday, early/mid/late YEAR: see seasons.py.
* Not read rather than misread: a date after "before", "until" or "by" (the date itself is not the range
  meant), "recently", "the last few months", "last month and a half", "2014-16" ("2010-11" may be a month).
* Numbers that are ids (#2024, ACC-2025) or amounts ("2000 dollars", "more than 2000") are not years.
* With several phrases the first in the text wins, and at one position the longest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from assistant import seasons

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = (r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_YEAR = r"(?:19|20)\d{2}"
_FREE = r"(?<![#$€£\w-])"  # not inside an id, an amount or a word
_DAY = r"(?P<d>\d{1,2})(?:st|nd|rd|th)?"
_ISO = re.compile(_FREE + r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\w-])")
_MONTH_DAYS = (
    re.compile(_FREE + _MONTH + r"\.?\s+" + _DAY + rf"\b(?:,?\s+(?P<y>{_YEAR})\b)?(?![\w-])", re.I),
    re.compile(_FREE + _DAY + r"\s+(?:of\s+)?" + _MONTH + rf"\b(?:,?\s+(?P<y>{_YEAR})\b)?(?![\w-])", re.I),
)
_MONTH_YEAR = re.compile(_FREE + _MONTH + rf"\.?,?\s+(?:of\s+)?(?P<y>{_YEAR})\b(?![-/]\d)", re.I)
_BARE_MONTH = re.compile(_FREE + _MONTH + r"\b(?!-)", re.I)
_MONTH_CUE = re.compile(r"\b(?:in|during|for|since|from|between|and|to|until|through|throughout|early|late|mid"
                        r"|last|this)\s+$", re.I)
_PART = re.compile(
    _FREE + rf"(?:(?P<fpre>fiscal(?:\s+year)?|fy)\s*'?(?P<fya>\d{{4}}|\d{{2}})?\s*[-/]?\s*|(?P<ya>{_YEAR})\s*[-/]?\s*)?"
    r"(?:(?P<letter>[qh])(?P<num>[1-4])|(?P<ord>first|second|third|fourth|1st|2nd|3rd|4th)\s+(?P<unit>quarter|half))"
    r"(?:\s*[-/]?\s*(?:of\s+)?(?:(?:the\s+)?(?P<fpost>fiscal(?:\s+year)?|fy)\s*'?(?P<fyb>\d{4}|\d{2})?"
    rf"|(?P<yb>{_YEAR})))?\b", re.I)
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_FISCAL_YEAR = re.compile(_FREE + rf"(?:fy\s*'?(?P<a>\d{{4}}|\d{{2}})|fiscal\s+(?:year\s+)?(?P<b>{_YEAR}))\b", re.I)
_NOT_AMOUNT = r"(?!\s*(?:%|(?:dollars?|usd|eur|euros?|gbp|pounds?|k|m|bn|thousand|million)\b))"
_CALENDAR_YEAR = re.compile(_FREE + rf"(?P<y>{_YEAR})\b(?![-/.,]\d)" + _NOT_AMOUNT, re.I)
_YEAR_SPAN = re.compile(_FREE + rf"(?P<a>{_YEAR})\s*[-–—]\s*(?P<b>{_YEAR})\b(?![-/.,]\d)" + _NOT_AMOUNT, re.I)
_COMPARATIVE = re.compile(r"(?:\b(?:over|above|under|below|exceeding|(?:more|less|greater|fewer)\s+than"
                          r"|at\s+(?:least|most))|[<>]=?)\s*$", re.I)
# After "since", "after" or "between" a date counts only as part of the longer phrase; "between 2000 and 5000"
# and "since 2030" (still to come) name no date. "before X", "until X", "by X" are not read: X itself would be wrong.
_OPERAND = re.compile(r"(?:\b(?:since|after|before|until|till|by|prior\s+to|ahead\s+of)(?:\s+the)?"
                      r"|\bbetween(?:\s+[$€£]?[\d.,]+\s*\w*\s+and)?)\s+$", re.I)
_UNITS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
          "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORDS = {w: i for i, w in enumerate(_UNITS, 1)} | {w: 10 * i for i, w in enumerate(_TENS, 2)}
_NUMBER = (rf"(?P<n>\d{{1,4}}|(?:{'|'.join(_TENS)})(?:[-\s]+(?:{'|'.join(_UNITS[:9])})\b)?"
           rf"|{'|'.join(reversed(_UNITS))})")  # "seventeen" before "seven"
_LAST = r"\b(?:last|past|previous|prior|trailing)\s+"
_ROLLING = re.compile(_LAST + r"(?:" + _NUMBER + r"\s+(?P<half>and\s+a\s+half\s+)?"
                      r"(?P<unit>day|week|month|quarter|year)s?|year\s+(?P<and_half>and\s+a\s+half))\b", re.I)
_NAMED = re.compile(r"\b(?P<which>last|this|next|current|previous|prior|past)\s+(?P<fiscal>fiscal\s+)?"
                    r"(?P<unit>day|week|month|quarter|half|year|fy)\b(?!\s+and\s+a\s+half)", re.I)
# "YTD", "fiscal year to date", "so far this year", "this quarter so far"; a plain "this year" is _NAMED's.
_TO_DATE = re.compile(r"\b(?P<pre>so\s+far\s+this\s+|this\s+)?(?:(?P<fiscal>fiscal\s+)|(?P<f>f))?"
                      r"(?:(?P<u>[yqm])td|(?P<unit>year|quarter|month)(?P<post>[-\s]to[-\s]date|\s+so\s+far)?)\b",
                      re.I)
_TODAY = re.compile(r"\b(?P<day>today|yesterday)\b", re.I)
_JOINER = re.compile(r"\s*(?:(?P<and>and)|to|until|till|through|thru|-|–|—)\s*(?:the\s+)?", re.I)
_RANGE_OPENER = re.compile(r"\b(?P<word>from|between)\s+(?:the\s+)?$", re.I)
_SINCE = re.compile(r"\b(?P<word>since|after)\s+(?:the\s+)?$", re.I)
_LEAD = re.compile(r"(?:\b(?:in|during|for|over|within|throughout|from|on)\s+(?:the\s+)?|\bthe\s+)$", re.I)
_FISCAL_WORD = re.compile(r"\b(?:fiscal|fy)", re.I)
_SIZES = {"year": 12, "fy": 12, "half": 6, "quarter": 3, "month": 1, "y": 12, "q": 3, "m": 1, "h": 6}


@dataclass(frozen=True)
class DateMatch:
    """A resolved date phrase: [start, end) in days, what it was read as, and where it was in the text."""

    start: dt.date
    end: dt.date  # exclusive: the first day after the range
    label: str
    span: tuple[int, int]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Period:
    start: dt.date
    end: dt.date
    name: str | None  # canonical reading, e.g. "Q3 2026"; None when the range says it all
    span: tuple[int, int]
    notes: tuple[str, ...] = ()
    year: int = 0  # the year it is named by (the fiscal year for fiscal periods)
    in_year: Callable[[int], _Period] | None = None  # the same period in another year, when none was named
    point: dt.date | None = None  # the day "since X" starts at, where not X's first day ("since mid-2019")


@dataclass(frozen=True)
class _Context:
    text: str
    as_of: dt.date
    fy_month: int


def resolve_dates(text: str, as_of: dt.date, fiscal_year_start_month: int = 1) -> DateMatch | None:
    """The first (at one position, the longest) date phrase in the text, resolved; None when there is none."""
    if not 1 <= fiscal_year_start_month <= 12:
        raise ValueError(f"fiscal_year_start_month must be 1-12, got {fiscal_year_start_month}")
    ctx = _Context(text, as_of, fiscal_year_start_month)
    absolute = [p for find in (_iso_dates, _month_days, _month_years, _bare_months, _parts, _fiscal_years,
                               _calendar_years, _year_spans, _annual) for p in find(ctx)]
    relative = [p for find in (_rolling, _named_relative, _to_date, _today) for p in find(ctx)]
    # A date after "since", "before", "between", ... stands only in the longer phrase, and so does any inside it.
    held = [p.span for p in absolute + relative if _OPERAND.search(text[:p.span[0]])]
    lone = [p for p in absolute + relative if not any(a <= p.span[0] < b for a, b in held)]
    found = [p for p in lone + _ranges(ctx, absolute) + _sinces(ctx, absolute + relative) if p.start < p.end]
    if not found:
        return None
    return _matched(ctx, min(found, key=lambda p: (p.span[0], p.span[0] - p.span[1])))


def _matched(ctx: _Context, period: _Period) -> DateMatch:
    start, stop = period.span
    phrase = " ".join(ctx.text[start:stop].split())
    label = _label(phrase, period.name, _shown(period.start, period.end))
    notes = list(dict.fromkeys(period.notes))  # a range may carry its ends' notes twice
    if _FISCAL_WORD.search(phrase):
        fy = _containing(period.start, 12, ctx.fy_month)[0]
        fy_start, fy_end = _part(fy, 1, 12, True, ctx.fy_month)[:2]
        notes.append(f"fiscal years are named by the year they end in: FY{fy} runs {_shown(fy_start, fy_end)}")
    lead = _LEAD.search(ctx.text[:start])
    return DateMatch(period.start, period.end, label, (lead.start() if lead else start, stop), notes)


def _label(phrase: str, name: str | None, shown: str) -> str:
    """"last quarter = Q3 2026 (2026-07-01 to 2026-09-30)"; just "Q4 2025 = ..." when the phrase is the name."""
    if phrase == shown:
        return shown
    if name is None or name == shown:
        return f"{phrase} = {shown}"
    return f"{name} = {shown}" if name.lower() == phrase.lower() else f"{phrase} = {name} ({shown})"


def _shown(start: dt.date, end: dt.date) -> str:
    last = end - dt.timedelta(days=1)
    return start.isoformat() if last == start else f"{start.isoformat()} to {last.isoformat()}"


def _iso_dates(ctx: _Context) -> Iterator[_Period]:
    for m in _ISO.finditer(ctx.text):
        day = _date(int(m["y"]), int(m["m"]), int(m["d"]))
        if day is not None:
            yield _Period(day, day + dt.timedelta(days=1), day.isoformat(), m.span(), year=day.year)


def _month_days(ctx: _Context) -> Iterator[_Period]:
    for pattern in _MONTH_DAYS:
        for m in pattern.finditer(ctx.text):
            month, day, span = _month_number(m["mon"]), int(m["d"]), m.span()

            def in_year(year: int, month: int = month, day: int = day, span: tuple[int, int] = span) -> _Period:
                start = dt.date(year, month, day)
                return _Period(start, start + dt.timedelta(days=1), start.isoformat(), span, year=year)

            if _date(2024, month, day) is None:  # no such day in any year (2024 has a Feb 29)
                continue
            if m["y"]:
                if _date(int(m["y"]), month, day) is not None:
                    yield in_year(int(m["y"]))
                continue
            yield _latest(ctx, in_year, f"{m['mon'].title()} {day}", ctx.as_of.year)


def _month_years(ctx: _Context) -> Iterator[_Period]:
    for m in _MONTH_YEAR.finditer(ctx.text):
        yield _part_period(ctx, m.span(), _month_number(m["mon"]), 1, False, int(m["y"]))


def _bare_months(ctx: _Context) -> Iterator[_Period]:
    for m in _BARE_MONTH.finditer(ctx.text):
        # "may", "mar", "dec" are also ordinary words: short names need a cue such as "in" before them.
        if (len(m["mon"]) > 3 and m["mon"].lower() != "may") or _MONTH_CUE.search(ctx.text[:m.start()]):
            yield _part_period(ctx, m.span(), _month_number(m["mon"]), 1, False, None)


def _parts(ctx: _Context) -> Iterator[_Period]:
    for m in _PART.finditer(ctx.text):
        if m["letter"]:
            size, index = _SIZES[m["letter"].lower()], int(m["num"])
        else:
            size, index = _SIZES[m["unit"].lower()], _ORDINALS[m["ord"].lower()]
        if index > 12 // size:
            continue  # "H3", "third half"
        fiscal = bool(m["fpre"] or m["fpost"])
        year_text = m["fya"] or m["fyb"] or m["ya"] or m["yb"]
        period = _part_period(ctx, m.span(), index, size, fiscal, _full_year(year_text) if year_text else None)
        if not fiscal and ctx.fy_month != 1:
            unit = "quarter" if size == 3 else "half"
            note = f"{period.name} read as a calendar {unit}; say 'fiscal' or 'FY' for the fiscal one"
            period = _Period(period.start, period.end, period.name, period.span, (*period.notes, note),
                             period.year, period.in_year)
        yield period


def _fiscal_years(ctx: _Context) -> Iterator[_Period]:
    for m in _FISCAL_YEAR.finditer(ctx.text):
        yield _part_period(ctx, m.span(), 1, 12, True, _full_year(m["a"] or m["b"]))


def _calendar_years(ctx: _Context) -> Iterator[_Period]:
    for m in _CALENDAR_YEAR.finditer(ctx.text):
        before = ctx.text[:m.start()]
        # "more than 2000" is an amount; "Easter 2020" is not the whole of 2020
        if not _COMPARATIVE.search(before) and not seasons.EVENT_BEFORE_YEAR.search(before):
            yield _part_period(ctx, m.span(), 1, 12, False, int(m["y"]))


def _year_spans(ctx: _Context) -> Iterator[_Period]:
    """"2014-2016": the whole of both years and those between."""
    for m in _YEAR_SPAN.finditer(ctx.text):
        first, last = int(m["a"]), int(m["b"])
        if first < last and not _COMPARATIVE.search(ctx.text[:m.start()]):
            yield _Period(dt.date(first, 1, 1), dt.date(last + 1, 1, 1), None, m.span(), year=first)


def _annual(ctx: _Context) -> Iterator[_Period]:
    """Seasons, the holidays, shopping days and early/mid/late YEAR (see seasons.py for their readings)."""
    for hit in seasons.find(ctx.text, ctx.as_of):

        def in_year(year: int, hit: seasons.Hit = hit) -> _Period:
            start, end, name = seasons.occurrence(hit.kind, year)
            return _Period(start, end, name, hit.span, seasons.readings(hit.kind, year), year,
                           point=seasons.point(hit.kind, year))

        if hit.year is None:
            words = " ".join(ctx.text[hit.span[0]:hit.span[1]].split())
            yield _latest(ctx, in_year, words, ctx.as_of.year)
        else:
            found = in_year(hit.year)
            yield replace(found, notes=(*hit.notes, *found.notes))


def _part_period(ctx: _Context, span: tuple[int, int], index: int, size: int, fiscal: bool,
                 year: int | None) -> _Period:
    """A month, quarter, half or year by number; without a year, the latest one begun by as_of."""
    fy_month = ctx.fy_month if fiscal else 1

    def in_year(named: int) -> _Period:
        start, end, name = _part(named, index, size, fiscal, fy_month)
        return _Period(start, end, name, span, year=named)

    if year is not None:
        return in_year(year)
    bare = dt.date(2000, index, 1).strftime("%B") if size == 1 else f"{'HQ'[size == 3]}{index}"
    return _latest(ctx, in_year, f"fiscal {bare}" if fiscal else bare, _containing(ctx.as_of, size, fy_month)[0])


def _latest(ctx: _Context, in_year: Callable[[int], _Period], bare: str, year: int) -> _Period:
    """The period in the latest year in which it has begun by as_of, with a note saying so."""
    for candidate in range(year, year - 9, -1):  # Feb 29 may be years back
        try:
            found = in_year(candidate)
        except ValueError:
            continue
        if found.start <= ctx.as_of:
            break
    note = f"bare {bare} read as {found.name}, the latest that began by {ctx.as_of.isoformat()}"
    return replace(found, notes=(note, *found.notes), in_year=in_year)


def _part(year: int, index: int, size: int, fiscal: bool, fy_month: int) -> tuple[dt.date, dt.date, str]:
    """Start, end and name of the index-th period of `size` months in a (fiscal) year."""
    first = dt.date(year - 1, fy_month, 1) if fiscal and fy_month > 1 else dt.date(year, 1, 1)
    start = _add_months(first, size * (index - 1))
    letter = {6: "H", 3: "Q"}.get(size, "")
    if size == 1:
        name = start.strftime("%B %Y")
    elif fiscal:
        name = f"FY{year} {letter}{index}" if letter else f"FY{year}"
    else:
        name = f"{letter}{index} {year}" if letter else str(year)
    return start, _add_months(start, size), name


def _containing(day: dt.date, size: int, fy_month: int) -> tuple[int, int]:
    """The (fiscal) year, named by the year it ends in, and the index of the period holding the day."""
    year = day.year + 1 if fy_month > 1 and day.month >= fy_month else day.year
    return year, (day.month - fy_month) % 12 // size + 1


def _rolling(ctx: _Context) -> Iterator[_Period]:
    for m in _ROLLING.finditer(ctx.text):
        count, unit = (_count(m["n"]), m["unit"].lower()) if m["n"] else (1, "year")
        if m["half"] or m["and_half"]:  # "the last year and a half" is 18 months; half months and days are not read
            if unit != "year":
                continue
            count, unit = 12 * count + 6, "month"
        if count * _SIZES.get(unit, 0) < 12 * 1000:  # "last 5000 years" reaches back past year 1
            yield _trailing(ctx, m.span(), count, unit)


def _trailing(ctx: _Context, span: tuple[int, int], count: int, unit: str) -> _Period:
    """The `count` units that end with as_of; a note says so where calendar units were a choice."""
    end = ctx.as_of + dt.timedelta(days=1)
    if unit in ("day", "week"):
        start = end - dt.timedelta(days=count * (7 if unit == "week" else 1))
    else:
        start = _add_months(end, -count * _SIZES[unit], keep_day=True)
    notes = () if unit == "day" else (f"rolling: up to and including {ctx.as_of.isoformat()}, not whole calendar "
                                      f"{unit}s",)
    return _Period(start, end, None, span, notes)


def _named_relative(ctx: _Context) -> Iterator[_Period]:
    for m in _NAMED.finditer(ctx.text):
        which, unit = m["which"].lower(), m["unit"].lower()
        if which == "past":  # "the past month" is the month up to today, not the calendar month
            yield _trailing(ctx, m.span(), 1, "year" if unit == "fy" else unit)
            continue
        delta = {"last": -1, "previous": -1, "prior": -1, "next": 1}.get(which, 0)
        if unit in ("day", "week"):
            days = 7 if unit == "week" else 1
            first = ctx.as_of - dt.timedelta(days=ctx.as_of.weekday() if unit == "week" else 0)
            start = first + dt.timedelta(days=delta * days)
            name = f"week of {start.isoformat()}" if unit == "week" else start.isoformat()
            yield _Period(start, start + dt.timedelta(days=days), name, m.span())
            continue
        fiscal = bool(m["fiscal"]) or unit == "fy"
        yield _shifted(ctx, m.span(), _SIZES[unit], fiscal and unit != "month", delta)


def _shifted(ctx: _Context, span: tuple[int, int], size: int, fiscal: bool, delta: int) -> _Period:
    """The whole period `delta` periods of `size` months away from the one holding as_of."""
    fy_month = ctx.fy_month if fiscal else 1
    year, index = _containing(ctx.as_of, size, fy_month)
    year, offset = divmod(year * (12 // size) + index - 1 + delta, 12 // size)
    start, end, name = _part(year, offset + 1, size, fiscal, fy_month)
    return _Period(start, end, name, span, year=year)


def _to_date(ctx: _Context) -> Iterator[_Period]:
    for m in _TO_DATE.finditer(ctx.text):
        if not (m["u"] or m["post"] or (m["pre"] and m["pre"].lower().startswith("so"))):
            continue  # a plain "this year" is whole
        size = _SIZES[(m["u"] or m["unit"]).lower()]
        fiscal = bool(m["fiscal"] or m["f"]) and size != 1
        fy_month = ctx.fy_month if fiscal else 1
        start, _, name = _part(*_containing(ctx.as_of, size, fy_month), size, fiscal, fy_month)
        yield _Period(start, ctx.as_of + dt.timedelta(days=1), f"{name} to date", m.span())


def _today(ctx: _Context) -> Iterator[_Period]:
    for m in _TODAY.finditer(ctx.text):
        day = ctx.as_of - dt.timedelta(days=1 if m["day"].lower() == "yesterday" else 0)
        yield _Period(day, day + dt.timedelta(days=1), day.isoformat(), m.span())


def _ranges(ctx: _Context, absolute: list[_Period]) -> list[_Period]:
    """"from A to B", "between A and B", "A to B": A's start to B's end; a missing year comes from the other."""
    found: list[_Period] = []
    for a in absolute:
        for b in absolute:
            joiner = _JOINER.fullmatch(ctx.text, a.span[1], b.span[0]) if a.span[1] <= b.span[0] else None
            opener = _RANGE_OPENER.search(ctx.text[:a.span[0]])
            if joiner is None or (joiner["and"] and (opener is None or opener["word"].lower() != "between")):
                continue
            try:
                first, last = _aligned(a, b)
            except ValueError:  # Feb 29 carried into a year without one
                continue
            span = (opener.start() if opener else a.span[0], b.span[1])
            found.append(_Period(first.start, last.end, None, span, first.notes + last.notes))
    return found


def _aligned(a: _Period, b: _Period) -> tuple[_Period, _Period]:
    """Give a range end without a year the other end's year, so that the range runs forward."""
    if a.in_year is not None and b.in_year is None:
        moved = a.in_year(b.year)
        return (moved if moved.start <= b.start else a.in_year(b.year - 1)), b
    if b.in_year is not None:
        moved = b.in_year(a.year)
        return a, (moved if moved.start >= a.start else b.in_year(a.year + 1))
    return a, b


def _sinces(ctx: _Context, periods: list[_Period]) -> list[_Period]:
    """"since X" from the start of X, "after X" from its end, up to and including as_of."""
    end, found = ctx.as_of + dt.timedelta(days=1), []
    for p in periods:
        if (m := _SINCE.search(ctx.text[:p.span[0]])) is None:
            continue
        word = m["word"].lower()
        start = p.point or (p.end if word == "after" else p.start)
        found.append(_Period(start, end, f"{word} {p.name}" if p.name else None, (m.start(), p.span[1]), p.notes))
    return found


def _count(number: str) -> int:
    """ "18", "eighteen", "twenty-four", "thirty six"."""
    return int(number) if number.isdigit() else sum(_WORDS[w] for w in re.split(r"[-\s]+", number.lower()))


def _month_number(name: str) -> int:
    return MONTHS.index(name[:3].lower()) + 1


def _full_year(text: str) -> int:
    return int(text) if len(text) == 4 else 2000 + int(text)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _add_months(day: dt.date, months: int, keep_day: bool = False) -> dt.date:
    """The day `months` months away: the first of that month, or the same day of it (clamped) with keep_day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if not keep_day:
        return dt.date(year, month, 1)
    for candidate in (day.day, 30, 29, 28):
        if (found := _date(year, month, min(day.day, candidate))) is not None:
            return found
    raise AssertionError("unreachable: every month has a 28th")
