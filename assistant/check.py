"""Holding a written summary to the computed facts: every number, date and citation in it is checked.

A number or date that matches no `Fact` (at the precision it is written) takes its sentence out of the
text; a citation of an event that was not retrieved is removed. Everything else stays byte-identical.
Numbers the analyst gave (the question, the plan's filter values) are taken as given, not checked.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Literal

from text_to_num import text2num  # type: ignore[import-untyped]

from assistant.models import Fact

ClaimKind = Literal["number", "percent", "amount", "date"]
Hedge = Literal["", "about", "over", "under", "p_below"]


@dataclass(frozen=True)
class Claim:
    """One number or date found in a text, as written and as parsed."""

    text: str  # as written: "$1.2M", "41%", "Nov 2025", "sixty"
    value: float | str  # a float; for a date "2025-11-03", "2025-11", "2025", "2025-Q4" or "--11-03"
    kind: ClaimKind
    start: int
    end: int
    currency: str | None = None  # ISO code, for amounts
    unit: float = 1.0  # the step of the last digit written ("1.2M": 100000): the precision to match at
    hedge: Hedge = ""  # "about 40%", "over 70", "nearly 72", "p < 0.05"
    direction: Literal["", "up", "down"] = ""  # "-12%", "down 12%", "a 12% rise"


@dataclass(frozen=True)
class Removal:
    """A sentence taken out of the text, and the claims in it that match no fact."""

    sentence: str
    claims: list[Claim]


@dataclass(frozen=True)
class Check:
    """The outcome of checking one text: the corrected text and what was taken out of it."""

    text: str  # the corrected text
    removed_citations: list[int]  # cited ids not among the allowed (removed from the text)
    unsupported: list[Claim]  # numbers and dates that match no fact (their sentences removed)
    claims: int  # numbers and dates checked in all
    sentences_removed: int
    citations: int = 0  # distinct ids cited
    removed: list[Removal] = field(default_factory=list)

    @property
    def failed_share(self) -> float:
        """The share of checked claims and cited ids that failed (0.0 when nothing was checked)."""
        checked = self.claims + self.citations
        return (len(self.unsupported) + len(self.removed_citations)) / checked if checked else 0.0

    def notes(self) -> list[str]:
        """Plain-text notes for the analyst on what was removed and why."""
        notes: list[str] = []
        for r in self.removed:
            stated = " and ".join(c.text for c in r.claims)
            verb = "matches" if len(r.claims) == 1 else "match"
            sentence = r.sentence if len(r.sentence) <= 200 else r.sentence[:199] + "…"
            notes.append(f"removed a sentence stating {stated}, which {verb} no computed figure: “{sentence}”")
        if self.removed_citations:
            notes.append(f"removed citations of events that were not retrieved: {self.removed_citations}")
        return notes


# --- finding claims ---------------------------------------------------------------------------------

_CITATION = re.compile(r"\[#\s*\d+(?:\s*,\s*#?\s*\d+)*\s*\]")
_LIST_NUMBER = re.compile(r"^[ \t]*\d{1,2}[.)](?=[ \t])", re.M)
_IDENTIFIER = re.compile(r"(?<![\w-])[A-Za-z]\w*(?:[-/]\w+)+")  # "ACC-1234", "CVE-2025-1234", "COVID-19"
_FREE = r"(?<![\w#/.:-])"  # not inside an id, a citation, a decimal or a time
_YEAR = r"(?P<y>(?:19|20)\d\d)"
# Capitalised only, so that "may" the verb is no month.
_MONTH = (r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\b\.?")
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\b"
_DATES = [  # longest first: a shorter pattern never claims part of a longer date
    re.compile(_FREE + _YEAR + r"-(?P<m>[01]\d)(?:-(?P<d>[0-3]\d))?(?![\w-]|[.:/]\d)"),
    re.compile(_FREE + _DAY + r"\s+(?:of\s+)?" + _MONTH + rf"(?:,?\s+{_YEAR}\b)?"),
    re.compile(_FREE + _MONTH + r"\s+" + _DAY + rf"(?![%.:/]\d|\s*%)(?:,?\s+{_YEAR}\b)?"),
    re.compile(_FREE + _MONTH + r",?\s+(?:of\s+)?" + _YEAR + r"\b"),
    re.compile(_FREE + r"(?P<p>[QH])(?P<q>[1-4])\s*[-/]?\s*" + _YEAR + r"\b"),
    re.compile(_FREE + _YEAR + r"\s*[-/]?\s*(?P<p>[QH])(?P<q>[1-4])\b"),
]
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_CODES = "USD|EUR|GBP|CAD|AUD|NZD|JPY|CHF|CNY|INR|SEK|NOK|DKK|HKD|SGD|MXN|BRL|ZAR|PLN"
_SYMBOLS = {"$": "USD", "US$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY"}
_CURRENCY_WORDS = {"dollar": "USD", "euro": "EUR", "pound": "GBP"}
_SCALES = {"k": 3, "thousand": 3, "m": 6, "mn": 6, "million": 6, "b": 9, "bn": 9, "billion": 9, "trillion": 12}
_NUMBER = re.compile(
    r"(?<![\w#/:.,$€£¥])(?:(?<![A-Za-z_]-)|(?=[$€£¥]))"  # "H1", "v2.1", "#12", "12:30" are no claims; "$1k-$2k" are
    rf"(?P<sign>[-+−](?=[$€£¥\d]|US\$|(?:{_CODES})))?"
    rf"(?:(?P<code>{_CODES})\s?|(?P<sym>US\$|[$€£¥])\s?)?"
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
    r"(?:(?P<suffix>(?i:k|mn|bn|m|b|x))(?!\w)|\s?(?P<scale>(?i:thousand|million|billion|trillion|mn|bn))\b)?"
    r"(?P<pct>\s?%|\s(?i:percent|per\s+cent|pct|percentage\s+points?|pp)\b)?"
    rf"(?:\s?(?P<code2>{_CODES})\b|\s(?P<word>(?i:dollar|euro|pound))s?\b)?"
    r"(?![\w%]|[.,:/]\d|-[A-Za-z])")  # "3DS", "5th", "1.2.3", "24/7" and "12-month" are no claims
_WORD = (r"(?:(?:seven|eigh|nine)teen|(?:four|fif|six|thir)teen|eleven|twelve|twenty|thirty|forty|fifty|sixty"
         r"|seventy|eighty|ninety|hundred|thousand|million|billion|zero|one|two|three|four|five|six|seven|eight"
         r"|nine|ten)\b")
_WORDS = re.compile(rf"(?<![\w-])(?:an?\s+(?=hundred|thousand|million|billion))?{_WORD}"
                    rf"(?:(?:(?<=hundred)\s+and\s+|\s+|-){_WORD})*(?!-\w)(?P<pct>\s?%|\s(?:percent|per\s+cent)\b)?",
                    re.I)
_TOP = re.compile(r"\btop\s+$", re.I)  # "the top 3 categories" ranks; it states no figure
_P_BOUND = re.compile(r"\bp(?:[- ]?values?)?\s*(?:<=?|≤|(?:is\s+)?(?:below|under|less\s+than))\s*$", re.I)
_HEDGES: list[tuple[Hedge, re.Pattern[str]]] = [
    ("over", re.compile(r"(?:\b(?:over|above|exceeding|(?:more|greater)\s+than|at\s+least|upwards\s+of"
                        r"|in\s+excess\s+of)|>=?|≥)\s*$", re.I)),
    ("under", re.compile(r"(?:\b(?:under|below|(?:less|fewer)\s+than|nearly|almost|close\s+to|up\s+to|at\s+most"
                         r"|just\s+shy\s+of)|<=?|≤)\s*$", re.I)),
    ("about", re.compile(r"(?:\b(?:about|around|roughly|approximately|approx\.|some|circa|an\s+estimated)|~)\s*$",
                         re.I)),
]
_FILLER = r"(?:(?:by|of|about|around|roughly|nearly|almost|over|some|more\s+than|less\s+than|just)\s+){0,2}$"
_DOWN_BEFORE = re.compile(r"\b(?:down|fell|fall(?:en|ing)?|drop(?:ped|ping)?|declin(?:e|ed|ing)|decreas(?:e|ed|ing)"
                          r"|lower|shr[au]nk|reduc(?:ed|tion))\s+" + _FILLER, re.I)
_UP_BEFORE = re.compile(r"\b(?:up|rose|ris(?:e|en|ing)|grew|grow(?:n|ing)?|increas(?:e|ed|ing)|jump(?:ed)?|climb(?:ed)?"
                        r"|higher|surg(?:e|ed))\s+" + _FILLER, re.I)
_DOWN_AFTER = re.compile(r"\s*(?:drop|decline|decrease|fall|reduction|lower|fewer|less)\b", re.I)
_UP_AFTER = re.compile(r"\s*(?:increase|rise|jump|growth|higher|more)\b", re.I)


def find_claims(text: str) -> list[Claim]:
    """Every number and date stated in the text, in order; ids, citations and list numbering are skipped."""
    taken = [m.span() for m in _CITATION.finditer(text)] + [m.span() for m in _LIST_NUMBER.finditer(text)]
    claims = _untaken(_dates(text), taken)  # first, so that "Q4-2025" is a date, not an id
    taken += [m.span() for m in _IDENTIFIER.finditer(text) if any(ch.isdigit() for ch in m[0])]
    claims += _untaken(_numbers(text), taken) + _untaken(_number_words(text), taken)
    return sorted(claims, key=lambda c: c.start)


def _untaken(found: Iterator[Claim], taken: list[tuple[int, int]]) -> list[Claim]:
    """The claims that overlap no span already taken; each one found takes its own span."""
    claims = []
    for claim in found:
        if not any(claim.start < end and start < claim.end for start, end in taken):
            claims.append(claim)
            taken.append((claim.start, claim.end))
    return claims


def _dates(text: str) -> Iterator[Claim]:
    for pattern in _DATES:
        for m in pattern.finditer(text):
            value = _date_value(m)
            if value is not None:
                yield Claim(m[0].rstrip("."), value, "date", m.start(), m.start() + len(m[0].rstrip(".")))


def _date_value(m: re.Match[str]) -> str | None:
    """The ISO form of a matched date ("2025-11-03", "2025-11", "2025-Q4", "--11-03"), None if no such day."""
    groups = m.groupdict()
    if groups.get("q"):
        return None if groups["p"] == "H" and int(groups["q"]) > 2 else f"{m['y']}-{groups['p']}{groups['q']}"
    month = int(groups["m"]) if groups.get("m") else _MONTHS.index(m["mon"][:3].lower()) + 1
    year = int(m["y"]) if m["y"] else 2000  # a leap year, so that "Feb 29" without a year is a day
    try:
        day = dt.date(year, month, int(groups["d"]) if groups.get("d") else 1)
    except ValueError:
        return None
    if not groups.get("d"):
        return f"{year:04d}-{month:02d}"
    return day.isoformat() if m["y"] else f"--{month:02d}-{day.day:02d}"


def _numbers(text: str) -> Iterator[Claim]:
    for m in _NUMBER.finditer(text):
        before = text[max(0, m.start() - 40):m.start()]
        if _TOP.search(before):
            continue
        mantissa = m["num"].replace(",", "")
        scale = (m["suffix"] or m["scale"] or "").lower()
        exp = _SCALES.get(scale, 0)
        sign = -1 if m["sign"] in ("-", "−") else 1
        value = sign * float(Decimal(mantissa).scaleb(exp))
        currency = (_SYMBOLS.get(m["sym"] or "") or m["code"] or m["code2"]
                    or _CURRENCY_WORDS.get((m["word"] or "").lower()))
        kind: ClaimKind = "percent" if m["pct"] else "amount" if currency else "number"
        if kind == "number" and not m["sign"] and not scale and re.fullmatch(r"(?:19|20)\d\d", m["num"]):
            yield Claim(m[0], mantissa, "date", m.start(), m.end())  # a year, or a count that equals one
            continue
        hedge = _hedge(before)
        decimals = len(mantissa.partition(".")[2])
        yield Claim(m[0], value, kind, m.start(), m.end(), currency=currency,
                    unit=_unit(mantissa if not decimals else "", exp - decimals, hedge), hedge=hedge,
                    direction=_direction(m["sign"] or "", before, text[m.end():m.end() + 30]))


def _number_words(text: str) -> Iterator[Claim]:
    for m in _WORDS.finditer(text):
        words = m[0][:m.start("pct") - m.start()] if m["pct"] else m[0]
        before = text[max(0, m.start() - 40):m.start()]
        if words.lower() == "one" or _TOP.search(before):  # "one of the": too idiomatic to hold as a figure
            continue
        try:
            value = int(text2num(re.sub(r"^an?\s+", "one ", words.lower().replace("-", " ")), "en"))
        except ValueError:
            continue
        hedge = _hedge(before)
        # A round word number ("two million") is as precise as its scale, like a hedged one.
        scaled = any(w in words.lower() for w in ("thousand", "million", "billion"))
        yield Claim(m[0], float(value), "percent" if m["pct"] else "number", m.start(), m.end(),
                    unit=_unit(str(value), 0, hedge or ("about" if scaled else "")), hedge=hedge,
                    direction=_direction("", before, text[m.end():m.end() + 30]))


def _unit(integer: str, exp: int, hedge: Hedge) -> float:
    """The precision a number is written at; a hedged round number ("about 1,200") is as precise as its zeros."""
    zeros = len(integer) - len(integer.rstrip("0")) if hedge in ("about", "over", "under") and integer.strip("0") else 0
    if zeros and integer.rstrip("0") == "1":  # "under 10,000" is no window of (0, 10000]: keep two digits
        zeros -= 1
    return float(Decimal(1).scaleb(exp + zeros))


def _hedge(before: str) -> Hedge:
    if _P_BOUND.search(before):
        return "p_below"
    return next((hedge for hedge, pattern in _HEDGES if pattern.search(before)), "")


def _direction(sign: str, before: str, after: str) -> Literal["", "up", "down"]:
    if sign in ("-", "−") or _DOWN_BEFORE.search(before) or _DOWN_AFTER.match(after):
        return "down"
    if sign == "+" or _UP_BEFORE.search(before) or _UP_AFTER.match(after):
        return "up"
    return ""


# --- matching claims to facts -----------------------------------------------------------------------

_ROUNDINGS: dict[Hedge, tuple[str, ...]] = {
    "": (ROUND_HALF_UP, ROUND_HALF_EVEN), "about": (ROUND_HALF_UP, ROUND_HALF_EVEN, ROUND_FLOOR, ROUND_CEILING),
    "over": (ROUND_FLOOR,), "under": (ROUND_CEILING,), "p_below": ()}


def _matches(claim: Claim, fact: Fact) -> bool:
    """Whether a claim states this fact, at the precision written."""
    if claim.kind == "date":
        return _date_matches(str(claim.value), fact)
    if fact.kind == "date" or isinstance(fact.value, (str, bool)):
        return False
    if claim.kind == "percent" and fact.kind not in ("share", "change"):
        return False
    if claim.kind == "amount" and (fact.kind != "amount" or _other_currency(claim, fact)):
        return False
    if claim.hedge == "p_below":
        return fact.kind == "p_value" and fact.value < float(claim.value)
    value, written = float(fact.value), float(claim.value)
    if claim.kind == "number" and fact.kind == "amount" and claim.unit == 1 and not claim.hedge:
        return value == written  # a bare whole number ("120 cardholders") is a count, not a rounded amount
    if fact.kind == "change":  # "down 12%" states a change of -12.0; only an explicit direction must agree
        if claim.direction and value and (value < 0) != (claim.direction == "down"):
            return False
        value, written = abs(value), abs(written)
    return _rounds_to(value, written, claim.unit, claim.hedge)


def _other_currency(claim: Claim, fact: Fact) -> bool:
    return bool(claim.currency and fact.currency and claim.currency != fact.currency.upper())


def _rounds_to(value: float, written: float, unit: float, hedge: Hedge) -> bool:
    step = Decimal(str(unit))
    target = (Decimal(str(written)) / step).to_integral_value(ROUND_HALF_EVEN)
    scaled = Decimal(str(value)) / step
    return any(scaled.to_integral_value(rounding) == target for rounding in _ROUNDINGS[hedge])


def _date_matches(claim: str, fact: Fact) -> bool:
    """A day equals a day fact, a month a month fact or a day's month, a year or quarter any date's year."""
    if fact.kind != "date":  # "2025 events" reads as a year, "November 12 events" as a day: either may be a count
        number = claim if re.fullmatch(r"\d{4}", claim) else claim[5:] if claim.startswith("--") else ""
        return bool(number) and not isinstance(fact.value, str) and float(fact.value) == float(number)
    value = str(fact.value)[:10]
    if claim.startswith("--"):
        return len(value) == 10 and value[4:] == claim[1:]
    if _yearly(claim):
        return value[:4] == claim[:4]
    return value[:len(claim)] == claim and (len(claim) == 7 or len(value) == 10)


def _yearly(date: str) -> bool:
    """A year, quarter or half ("2025", "2025-Q4", "2025-H1"): held to the year only."""
    return len(date) == 4 or "Q" in date or "H" in date


def _given(claim: Claim, given: list[Claim]) -> bool:
    """Whether the analyst stated this number or date (or its year) in the question or the plan."""
    if claim.kind == "date":
        date = str(claim.value)
        dates = [g.value for g in given if isinstance(g.value, str)]
        return any(d.startswith(date) or (_yearly(date) and d[:4] == date[:4]) for d in dates)
    return any(not isinstance(g.value, str) and abs(g.value) == abs(float(claim.value)) for g in given)


# --- correcting the text ----------------------------------------------------------------------------

_Line = tuple[int, int, list[tuple[int, int]]]  # a line's span with its newline, and its sentences' spans
_BULLET = re.compile(r"^[ \t]*(?:[-*•+]|\d{1,2}[.)]|#{1,6})[ \t]+")
_SENTENCE_END = re.compile(r"[.!?]+(?:[\"'”’)\]*_]|[ \t]*\[#[^\]\n]*\])*(?=\s|$)")
_ABBREVIATIONS = {"e.g", "i.e", "etc", "vs", "approx", "incl", "no", "nos", "mr", "mrs", "ms", "dr", "inc", "ltd",
                  "co", "corp", "st", "fig", "est", "avg", "u.s", "u.k", "a.m", "p.m", "cf", "al", "jr", "sr",
                  *(m for m in _MONTHS if m != "may"), "sept"}


def _lines(text: str) -> list[_Line]:
    """The text's lines and their sentences; a bullet or heading line is one sentence, a blank line none."""
    lines: list[_Line] = []
    start = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\r\n")
        first, last = start + len(content) - len(content.lstrip()), start + len(content.rstrip())
        spans = [] if first >= last else [(first, last)] if _BULLET.match(content) else _split(text, first, last)
        lines.append((start, start + len(line), spans))
        start += len(line)
    return lines


def _split(text: str, first: int, last: int) -> list[tuple[int, int]]:
    """Sentences within one line: split after . ! ? unless a decimal, an abbreviation or an initial."""
    spans: list[tuple[int, int]] = []
    start = first
    for m in _SENTENCE_END.finditer(text, first, last):
        word = re.search(r"[\w.]*$", text[start:m.start()])
        token = word[0].lower() if word else ""
        rest = text[m.end():last].lstrip()
        if m[0].startswith(".") and (token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())):
            continue
        if rest and rest[0].islower():
            continue
        spans.append((start, m.end()))
        start = m.end() + len(text[m.end():last]) - len(rest)
    if start < last:
        spans.append((start, last))
    return spans


def _cut(text: str, bad: set[tuple[int, int]], lines: list[_Line]) -> str:
    """The text without the bad sentences; a line left empty goes whole, with a blank line it would double."""
    gone = [bool(spans) and all(s in bad for s in spans) for _, _, spans in lines]
    cuts: list[tuple[int, int]] = []
    for i, (start, end, spans) in enumerate(lines):
        if gone[i]:
            cuts.append((start, end))
            cuts += _blank_to_cut(lines, gone, i)
            continue
        kept_end = start
        for j, span in enumerate(spans):
            if span not in bad:
                kept_end = span[1]
            elif j + 1 < len(spans):
                cuts.append((span[0], spans[j + 1][0]))
            else:
                cuts.append((kept_end, span[1]))
    out, at = [], 0
    for start, end in sorted(cuts):
        out.append(text[at:max(at, start)])
        at = max(at, end)
    return "".join(out) + text[at:]


def _blank_to_cut(lines: list[_Line], gone: list[bool], i: int) -> list[tuple[int, int]]:
    """The blank line that removing line i (the last of a run) would leave doubled, or at the end."""
    if i + 1 < len(lines) and gone[i + 1]:
        return []
    before = i - 1
    while before >= 0 and gone[before]:
        before -= 1
    if before >= 0 and lines[before][2]:
        return []  # the paragraph before goes on: nothing doubles
    if i + 1 < len(lines) and not lines[i + 1][2]:
        return [lines[i + 1][:2]]
    return [lines[before][:2]] if i + 1 == len(lines) and before >= 0 else []


def _strip_citations(text: str, invalid: set[int]) -> str:
    """Remove markers of invalid ids, with the space before them, so that no double space is left."""
    out, at = [], 0
    for m in _CITATION.finditer(text):
        ids = [int(i) for i in re.findall(r"\d+", m[0])]
        if not invalid.intersection(ids):
            continue
        kept = [i for i in ids if i not in invalid]
        start, end = m.span()
        if not kept:
            if start > 0 and text[start - 1] in " \t" and (end == len(text) or text[end] in " \t\r\n.,;:!?)"):
                start -= 1
            elif (start == 0 or text[start - 1] == "\n") and text[end:end + 1] == " ":
                end += 1
        out.append(text[at:start] + ("[" + ", ".join(f"#{i}" for i in kept) + "]" if kept else ""))
        at = end
    return "".join(out) + text[at:]


def check_citations(text: str, allowed_ids: Collection[int]) -> tuple[list[int], list[int]]:
    """The ids cited in the text, in order of first citation, split into (allowed, not allowed)."""
    cited = list(dict.fromkeys(int(i) for m in _CITATION.finditer(text) for i in re.findall(r"\d+", m[0])))
    return [i for i in cited if i in allowed_ids], [i for i in cited if i not in allowed_ids]


def check_text(text: str, facts: Sequence[Fact], allowed_ids: Collection[int], *, given: str = "") -> Check:
    """Remove the sentences whose numbers or dates match no fact, and the citations of events not retrieved."""
    stated = find_claims(given)
    claims = [c for c in find_claims(text) if not _given(c, stated)]
    unsupported = [c for c in claims if not any(_matches(c, f) for f in facts)]
    lines = _lines(text)
    removed: dict[tuple[int, int], list[Claim]] = {}
    for claim in unsupported:
        span = next((s for _, _, spans in lines for s in spans if s[0] <= claim.start < s[1]), (claim.start, claim.end))
        removed.setdefault(span, []).append(claim)
    valid, invalid = check_citations(text, allowed_ids)
    corrected = _strip_citations(_cut(text, set(removed), lines), set(invalid))
    return Check(text=corrected, removed_citations=invalid, unsupported=unsupported, claims=len(claims),
                 sentences_removed=len(removed), citations=len(valid) + len(invalid),
                 removed=[Removal(text[s:e], found) for (s, e), found in removed.items()])
