"""Named parts of the year in a question: seasons, the holidays, shopping days, early/mid/late YEAR.

dates.py turns what is found here into ranges of days. The readings:

* Seasons are meteorological, northern hemisphere, and named by the year they begin in: spring is
  Mar 1 - May 31, summer Jun 1 - Aug 31, fall (autumn) Sep 1 - Nov 30, winter Dec 1 - end of Feb,
  so "winter 2022" (also "winter 2022-23") runs 2022-12-01 to 2023-02-28.
* "the holidays", "the holiday season": the US holiday shopping season, Nov 15 through New Year's Day.
* Thanksgiving is the US one, the fourth Thursday of November; Black Friday is the day after it and
  Cyber Monday the Monday after it. Christmas (Day) is Dec 25, Christmas Eve Dec 24, New Year's Eve
  Dec 31, New Year's Day Jan 1. Each is that one day.
* early / mid / late YEAR are its thirds: Jan-Apr, May-Aug, Sep-Dec. As a point in time ("since
  mid-2019") mid-YEAR is July 1, the middle of the year; early and late YEAR are their first day.
* Which one, when no year is named ("summer of last year" and "last year's holidays" name one):
  "this X" and a bare X after a preposition ("in the fall", "over the holidays") are the latest X
  begun by as_of, whole even when as_of is inside it, as "this month" is; "last X" (also "past",
  "previous", "prior", "this past") is the latest X that has ended by as_of, as in speech: in
  November "last summer" is the summer just gone, in July the one a year before; "next X" is the
  first X that begins after as_of.
* Such a word counts only with a year, with this/last/next, or after a preposition ("in", "during",
  "over", "since", ...; "the" is enough for the holidays) and, for a season or a day, before the end
  of the clause or another preposition: "spring water", "spring-loaded", "the fall in fraud", "did
  fraud fall last year", "Black Friday deals" and "bank holidays 2019" name no season or holiday.
* Not read: "Christmas week", "Black Friday weekend", "Christmas break", "over Christmas" and "around
  Christmas" (days around it, not the day), plain "New Year", movable feasts (Easter, Ramadan, Hanukkah,
  Lunar New Year); a year right after one of them is not read as the whole year either
  (``EVENT_BEFORE_YEAR``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_YEAR = r"(?:19|20)\d{2}"
# As after a year in dates.py: "2000 dollars" is an amount.
_NOT_AMOUNT = r"(?!\s*(?:%|(?:dollars?|usd|eur|euros?|gbp|pounds?|k|m|bn|thousand|million)\b))"
_KINDS = (r"spring|summer|fall|autumn|winter|holidays|holiday\s+(?:shopping\s+)?season"
          r"|thanksgiving(?:\s+day)?|black\s+friday|cyber\s+monday|christmas(?:\s+(?:eve|day))?"
          r"|new\s+year['’]?s\s+(?:eve|day)")
_KIND = rf"(?P<kind>{_KINDS})"
_OPEN = r"(?<![\w#$€£-])"
_CLOSE = r"(?![\w-])(?!\s+(?:week(?:end)?s?|break|holidays?|season|shopping|rush)\b)"
_NAMED_YEAR = rf"(?P<y>{_YEAR})(?:[-/–](?P<y2>(?:19|20)?\d{{2}}))?\b(?![-/.,]\d)" + _NOT_AMOUNT
_RELATIVE_YEAR = r"(?P<rel>this|last|next)\s+year\b"
_WITH_YEAR = tuple(re.compile(pattern, re.I) for pattern in (
    _OPEN + _KIND + r",?\s+(?:of\s+)?" + _NAMED_YEAR,  # fall of 2019, Christmas 2019, winter 2022-23
    _OPEN + rf"(?P<y>{_YEAR})\s+" + _KIND + _CLOSE,  # the 2019 holidays
    _OPEN + _KIND + r",?\s+(?:of\s+)?" + _RELATIVE_YEAR,  # summer of last year
    _OPEN + r"(?P<rel>this|last|next)\s+year['’]?s\s+" + _KIND + _CLOSE,  # last year's holidays
    _OPEN + r"(?P<kind>early|mid|late)[-\s]+(?:" + _NAMED_YEAR + "|" + _RELATIVE_YEAR + ")",  # mid-2019
))
_WHICH = re.compile(_OPEN + r"(?P<which>this\s+past|this|last|next|past|current|previous|prior)\s+" + _KIND + _CLOSE,
                    re.I)
_BARE = re.compile(_OPEN + _KIND + _CLOSE, re.I)
_SEASONS = frozenset({"spring", "summer", "fall", "autumn", "winter"})
_ONE_DAY = frozenset({"thanksgiving", "black friday", "cyber monday", "christmas eve", "christmas", "new year's eve",
                      "new year's day"})
_WHICH_WORDS = {"this past": "last", "past": "last", "previous": "last", "prior": "last", "current": "this"}
_WHICH_READINGS = {"this": "the latest that began by", "last": "the latest that ended by",
                   "next": "the first that begins after"}
_PREPOSITIONS = r"in|during|over|throughout|through|since|after|from|between|for"
_CUES = {
    "season": re.compile(rf"\b(?:{_PREPOSITIONS})\s+(?:the\s+)?$", re.I),
    "holidays": re.compile(rf"(?:\b(?:{_PREPOSITIONS})\s+|\bthe\s+)$", re.I),
    "day": re.compile(r"\b(?:on|during|since|after|from|between)\s+(?:the\s+)?$", re.I),
}
# The second end of "from spring to fall", "between Thanksgiving and Christmas".
_RANGE_END = re.compile(rf"\b(?:from|between)\s+(?:the\s+)?(?:{_KINDS})(?:\s+{_YEAR})?"
                        r"\s*(?:to|through|thru|until|till|and|-|–|—)\s*(?:the\s+)?$", re.I)
_CLAUSE_GOES_ON = re.compile(
    r"\s*(?:$|[,.;:?!)\]–—]|-\s|(?:and|or|but|vs|versus|compared|than|with|at|on|in|for|from|by|to|across|among"
    r"|of|over|through|thru|until|till|when|while|where|that|which|who|as|months?)\b)", re.I)
_FALLING = re.compile(r"\s+(?:in|of|off|by|to|from|below|under|short|back|behind|out|apart|through|into|on|over"
                      r"|sharply|further)\b", re.I)
_FALL_CUE = re.compile(rf"(?:^|[^\w\s]|\b(?:the|{_PREPOSITIONS}))\s*$", re.I)
_HOLIDAYS_CUE = re.compile(rf"(?:^|[^\w\s]|\b(?:the|and|to|until|till|thru|{_PREPOSITIONS}))\s*$", re.I)
_AROUND = r"\b(?:around|over|near|about)\s+(?:the\s+)?"
_DAYS = r"thanksgiving|black\s+friday|cyber\s+monday|christmas"
EVENT_BEFORE_YEAR = re.compile(
    rf"(?:{_AROUND}(?:{_DAYS})(?:\s+(?:day|eve))?|\b(?:easter|passover|ramadan|eid|hanukkah|chanukah|diwali|(?:lunar|chinese)\s+new\s+year|new\s+year['’]?s?"
    rf"|(?:{_DAYS}|cyber)\s+(?:week(?:end)?|break|holidays?|season|shopping|rush)"
    r"|(?:spring|summer|fall|autumn|winter)\s+(?:break|holidays?)))\s+(?:of\s+)?$", re.I)
_AROUND_DAY = re.compile(_AROUND + "$", re.I)
_ALIASES = {"thanksgiving day": "thanksgiving", "christmas day": "christmas", "holiday season": "holidays",
            "holiday shopping season": "holidays", "new years eve": "new year's eve", "new years day": "new year's day"}


def _thanksgiving(year: int) -> dt.date:
    """US Thanksgiving: the fourth Thursday of November."""
    first = dt.date(year, 11, 1)
    return first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)


def _day(day: dt.date, after: int = 0) -> tuple[dt.date, dt.date]:
    start = day + dt.timedelta(days=after)
    return start, start + dt.timedelta(days=1)


def _months(year: int, first: int, last: int) -> tuple[dt.date, dt.date]:
    """The 1st of month `first` to the 1st after month `last`; a `last` of 12 or more ends in the next year."""
    return dt.date(year, first, 1), dt.date(year + (last >= 12), last % 12 + 1, 1)


_SPANS: dict[str, Callable[[int], tuple[dt.date, dt.date]]] = {
    "spring": lambda y: _months(y, 3, 5), "summer": lambda y: _months(y, 6, 8), "fall": lambda y: _months(y, 9, 11),
    "autumn": lambda y: _months(y, 9, 11), "winter": lambda y: _months(y, 12, 14),
    "early": lambda y: _months(y, 1, 4), "mid": lambda y: _months(y, 5, 8), "late": lambda y: _months(y, 9, 12),
    "holidays": lambda y: (dt.date(y, 11, 15), dt.date(y + 1, 1, 2)),
    "thanksgiving": lambda y: _day(_thanksgiving(y)), "black friday": lambda y: _day(_thanksgiving(y), 1),
    "cyber monday": lambda y: _day(_thanksgiving(y), 4), "christmas eve": lambda y: _day(dt.date(y, 12, 24)),
    "christmas": lambda y: _day(dt.date(y, 12, 25)), "new year's eve": lambda y: _day(dt.date(y, 12, 31)),
    "new year's day": lambda y: _day(dt.date(y, 1, 1)),
}
_NAMES = {"winter": "winter {year}-{next:02d}", "mid": "mid-{year}", "holidays": "the {year} holiday season",
          "thanksgiving": "Thanksgiving {year}", "black friday": "Black Friday {year}",
          "cyber monday": "Cyber Monday {year}", "christmas eve": "Christmas Eve {year}",
          "christmas": "Christmas Day {year}", "new year's eve": "New Year's Eve {year}",
          "new year's day": "New Year's Day {year}"}
_SEASON_NOTE = ("seasons are meteorological (northern hemisphere): spring Mar-May, summer Jun-Aug, fall Sep-Nov, "
                "winter Dec-Feb")
_THIRDS_NOTE = "early, mid and late YEAR read as its thirds: Jan-Apr, May-Aug, Sep-Dec"
_THANKSGIVING_NOTE = ("Thanksgiving is the US one, the fourth Thursday of November; Black Friday is the day after "
                      "it, Cyber Monday the Monday after it")
_READINGS = {
    **dict.fromkeys(["spring", "summer", "fall", "autumn"], _SEASON_NOTE),
    **dict.fromkeys(["early", "late"], _THIRDS_NOTE),
    **dict.fromkeys(["thanksgiving", "black friday", "cyber monday"], _THANKSGIVING_NOTE),
    "holidays": "the holidays read as the US holiday season, November 15 through New Year's Day",
    "christmas": "Christmas read as Christmas Day, December 25; 'the holidays' is the season",
}


@dataclass(frozen=True)
class Hit:
    """A named part of the year in a text; year is None where as_of must pick it (a bare "in the fall")."""

    kind: str  # "spring", "holidays", "black friday", "mid", ...
    span: tuple[int, int]
    year: int | None
    notes: tuple[str, ...] = ()


def occurrence(kind: str, year: int) -> tuple[dt.date, dt.date, str]:
    """Start, end (exclusive) and name of the kind's occurrence named by the year."""
    start, end = _SPANS[kind](year)
    return start, end, _NAMES.get(kind, "{kind} {year}").format(kind=kind, year=year, next=(year + 1) % 100)


def readings(kind: str, year: int) -> tuple[str, ...]:
    """Notes saying how the kind was read, where that was a choice."""
    if kind == "winter":
        return _SEASON_NOTE, f"winter {year} is the one that begins in December {year} and ends in February {year + 1}"
    if kind == "mid":
        return _THIRDS_NOTE, f"as a point in time mid-{year} is {year}-07-01, the middle of the year"
    return (_READINGS[kind],) if kind in _READINGS else ()


def point(kind: str, year: int) -> dt.date | None:
    """The day the occurrence stands for as a point in time ("since mid-2019"), where not its first day."""
    return dt.date(year, 7, 1) if kind == "mid" else None


def year_of(kind: str, which: str, as_of: dt.date) -> int:
    """The year naming the latest one begun ("this"), the latest ended ("last") or the first to come ("next")."""
    year = as_of.year
    while _SPANS[kind](year)[0] > as_of:
        year -= 1
    if which == "next":
        return year + 1
    return year - 1 if which == "last" and _SPANS[kind](year)[1] > as_of else year


def find(text: str, as_of: dt.date) -> Iterator[Hit]:
    """Every season, holiday, shopping day and early/mid/late year named in the text."""
    for pattern in _WITH_YEAR:
        for m in pattern.finditer(text):
            year = _named_year(m, as_of)
            if year is not None and _fits(text, m):
                yield Hit(_kind(m["kind"]), m.span(), year)
    for m in _WHICH.finditer(text):
        if _fits(text, m):
            yield _which(m, as_of)
    for m in _BARE.finditer(text):
        if _fits(text, m) and _cued(text, m):
            yield Hit(_kind(m["kind"]), m.span(), None)


def _named_year(m: re.Match[str], as_of: dt.date) -> int | None:
    """The year a phrase names; None for a second year other than the next ("winter 2022-23" only)."""
    groups = m.groupdict()
    if groups.get("rel"):
        return as_of.year + {"this": 0, "last": -1, "next": 1}[groups["rel"].lower()]
    year, second = int(groups["y"]), groups.get("y2")
    if second and (_kind(m["kind"]) != "winter" or int(second) not in ((year + 1) % 100, year + 1)):
        return None
    return year


def _which(m: re.Match[str], as_of: dt.date) -> Hit:
    which = " ".join(m["which"].lower().split())
    which = _WHICH_WORDS.get(which, which)
    kind = _kind(m["kind"])
    year = year_of(kind, which, as_of)
    note = f"{' '.join(m[0].split())} read as {occurrence(kind, year)[2]}, {_WHICH_READINGS[which]} {as_of.isoformat()}"
    return Hit(kind, m.span(), year, (note,))


def _fits(text: str, m: re.Match[str]) -> bool:
    """Not the verb or noun "fall" ("the fall in fraud"), not "bank holidays 2019", not "around Christmas"."""
    kind, before, leads = _kind(m["kind"]), text[:m.start()], m.start("kind") == m.start()
    if kind == "fall" and ((m.end("kind") == m.end() and _FALLING.match(text, m.end()))
                           or (leads and not m.groupdict().get("y") and not _FALL_CUE.search(before)
                               and not _RANGE_END.search(before))):
        return False
    if leads and kind in _ONE_DAY and _AROUND_DAY.search(before):
        return False  # "around Christmas" is the days around it
    return kind != "holidays" or not leads or bool(_HOLIDAYS_CUE.search(before))


def _cued(text: str, m: re.Match[str]) -> bool:
    """A bare season or day needs a preposition before it and the clause going on after it."""
    kind, before = _kind(m["kind"]), text[:m.start()]
    cue = _CUES["season" if kind in _SEASONS else "holidays" if kind == "holidays" else "day"]
    if not (cue.search(before) or _RANGE_END.search(before)):
        return False
    return kind == "holidays" or bool(_CLAUSE_GOES_ON.match(text, m.end()))


def _kind(text: str) -> str:
    words = " ".join(text.lower().replace("’", "'").split())
    return _ALIASES.get(words, words)
