"""Counts bound to a numeric attribute: "more than two million units" becomes units_affected gt 2000000.

A number is a quantity only when the words of one numeric field stand next to it: right after the
number ("50k+ accounts affected") or right before its comparison ("score drop over 80"). Anything
else (money, years, ids, percentages with no percent field, "top 20 events", "3 alerts") is left to
the planner, which reads money as `amount`. Each match carries its span so that the planner does not
also read the same words as an amount.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from text_to_num import text2num  # type: ignore[import-untyped]

from assistant.meaning import stem
from assistant.models import FilterOp


@dataclass(frozen=True)
class QuantityMatch:
    """One comparison on a numeric attribute, with the span of text it was read from."""

    field: str
    op: FilterOp
    value: str | list[str]  # plain decimal strings; a [low, high] pair for "between"
    phrase: str
    start: int
    end: int
    certainty: float


def _split(words: str) -> list[str]:
    """The words of a space-separated list (long word lists read better as one string)."""
    return words.split()


def _alternatives(words: list[str]) -> str:
    """A regex alternation that tries longer phrases first ("no more than" before "more than")."""
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))


_ONES = _split("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
               "sixteen seventeen eighteen nineteen")
_TENS = _split("twenty thirty forty fifty sixty seventy eighty ninety")
_SCALE_WORDS = ["hundred", "thousand", "million", "billion"]
_WORD = rf"(?:{_alternatives(_ONES + _TENS + _SCALE_WORDS)})\b"
# "two million", "twenty-five", "one hundred and twenty", "a million", "half a million".
_WORDS = (rf"(?:(?:half\s+)?an?\s+(?=(?:{'|'.join(_SCALE_WORDS)})\b))?{_WORD}"
          rf"(?:(?:\s*-\s*|\s+|(?<=hundred)\s+and\s+){_WORD})*")
_SCALES = {"k": 3, "thousand": 3, "m": 6, "mn": 6, "million": 6, "b": 9, "bn": 9, "billion": 9, "hundred": 2}


def _number(name: str, guard: str = r"(?<![#\w.,-])") -> str:
    """A number with its money and percent marks: "$5k", "1.5M", "5,000", "two million", "80%"."""
    return (rf"{guard}(?P<{name}_cur>(?:usd|eur|gbp)\s*|[$€£]\s?)?"
            rf"(?:(?P<{name}>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
            rf"(?:(?P<{name}_suffix>mn|bn|k|m|b)\b|\s*(?P<{name}_scale>{'|'.join(_SCALE_WORDS)})\b|\b)(?![.,]\d)"
            rf"|(?P<{name}_words>{_WORDS}))"
            rf"(?P<{name}_pct>\s*(?:%|percent\b|per\s+cent\b|pct\b))?"
            rf"(?P<{name}_money>\s*(?:dollars?|usd|euros?|eur|pounds?|gbp|bucks)\b)?")


_CUES: dict[str, FilterOp] = {
    "more than": "gt", "greater than": "gt", "higher than": "gt", "over": "gt", "above": "gt", "exceeding": "gt",
    "exceeds": "gt", "exceeded": "gt", "exceed": "gt", "in excess of": "gt", "north of": "gt",
    "at least": "gte", "no fewer than": "gte", "no less than": "gte", "not fewer than": "gte",
    "not less than": "gte", "upwards of": "gte", "a minimum of": "gte", "minimum of": "gte",
    "under": "lt", "below": "lt", "less than": "lt", "fewer than": "lt", "lower than": "lt",
    "at most": "lte", "up to": "lte", "no more than": "lte", "not more than": "lte", "a maximum of": "lte",
    "maximum of": "lte", "exactly": "eq", "precisely": "eq",
    ">": "gt", ">=": "gte", "≥": "gte", "<": "lt", "<=": "lte", "≤": "lte", "=": "eq"}
_POSTS: dict[str, FilterOp] = {
    "+": "gte", "more": "gte", "greater": "gte", "above": "gte", "over": "gte", "higher": "gte", "up": "gte",
    "less": "lte", "fewer": "lte", "below": "lte", "under": "lte", "lower": "lte"}
_WORD_CUES = [c for c in _CUES if c[0].isalpha()]
_SIGN_CUES = [c for c in _CUES if not c[0].isalpha()]
_CUE = (rf"(?:(?P<mod>\b(?:just|slightly|well|far)\s+)?(?P<cue>\b(?:{_alternatives(_WORD_CUES)})\s+"
        rf"|(?:{_alternatives(_SIGN_CUES)})\s*))")
_POST = (r"(?P<post>\s*\+(?!\d)|\s+(?:or|and)\s+(?:"
         + "|".join(w for w in _POSTS if w != "+") + r")\b)")
_SINGLE = re.compile(rf"{_CUE}?{_number('n')}{_POST}?", re.I)
# "between 100 and 500", "from 1k to 5k", "100-500": a bare range takes no "and" ("5 and 10 accounts"),
# and a hyphen glued to a word is a number word's own ("twenty-five"), not a range.
_RANGE = re.compile(rf"(?:\b(?P<cue>between|from)\s+)?{_number('low')}"
                    r"(?:\s+(?(cue)(?:and|to)|to)\s+|\s+[-–]\s+|(?<![a-z]{3})[-–])" + _number("high", r"(?<![#\w.,])"),
                    re.I)

# Words that end the noun phrase after a number: "500 complaints from customers" counts complaints.
_STOPS = frozenset(_split(
    "of in for from by with at on to and or but than that which who whose where when since during this last "
    "next these those the a an per each across among over under above below between while as if is are was "
    "were has have had within before after"))
# Words that may sit between a field's name and its comparison: "units of more than 2M", "scores that dropped by".
_LINKS = frozenset(_split("of that which whose by was were is are has have had been being the a an its their total "
                          "totaling totalling totaled totalled"))
# A bare number binds backwards only after one of these or a past tense ("dropped 80", "fell 80"),
# so "dropped by 80" and "a drop of 80" are sizes and "account 1234" is not.
_BARE_LINKS = frozenset(_split("of by totaling totalling totaled totalled reaching hitting numbering"))
# A number right after one of these ranks or names things: "top 20 events", "the 5 customers".
_RANKS = frozenset(_split("top first last bottom latest newest oldest next previous the these those biggest largest "
                          "worst best"))
# Units of measure say how a field is counted, not what is counted: "dropped by 80 points".
_MEASURES = frozenset(("point", "pt", "total", "overall"))
_GENERIC = frozenset(_split("number count total of the a an num nb no qty attribute attributes field value pct "
                            "percent percentage"))
_PERCENT = frozenset(("pct", "percent", "percentage"))
# Verbs that name a drop without saying "drop": "scores that fell more than 80 points".
_DROP_WORDS = frozenset(("fell", "fall", "fallen", "declin", "decline", "decreas", "decrease", "dip"))
_YEAR = re.compile(r"(?:19|20)\d\d")
_TOKEN = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*|[^\sA-Za-z]")

_BEFORE_SURE, _AFTER_SURE = 0.8, 0.9
_BARE, _BARE_RANGE = 0.6, 0.8  # "recalls of 2 million units" reads as at least, less surely than "over"


def quantities_in_text(text: str, numeric_fields: dict[str, list[str]]) -> list[QuantityMatch]:
    """Comparisons on numeric attributes named in the text; numeric_fields maps a field to extra names."""
    fields = {name: _field_stems(name, extra) for name, extra in numeric_fields.items()}
    found: list[QuantityMatch] = []
    ranges: list[tuple[int, int]] = []
    for m in _RANGE.finditer(text):
        ranges.append(m.span())
        found += _range_matches(text, m, fields)
    for m in _SINGLE.finditer(text):
        if not any(m.start() < end and start < m.end() for start, end in ranges):
            found += _single_matches(text, m, fields)
    return sorted(found, key=lambda q: (q.start, q.field))


def _field_stems(name: str, extra: list[str]) -> frozenset[str]:
    """The stems that name a field: its key's words ("units_affected", "unitsAffected") and its extra names."""
    words = _key_words(name) + [w for e in extra for w in re.findall(r"[A-Za-z]+", e)]
    return frozenset(_stem(w) for w in words if w.lower() not in _GENERIC)


def _key_words(name: str) -> list[str]:
    """The words of a field's last key, split on underscores and camelCase ("attributes.unitsAffected")."""
    return re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", name.rsplit(".", 1)[-1])


def _is_percent(name: str) -> bool:
    return any(w.lower() in _PERCENT for w in _key_words(name))


def _stem(word: str) -> str:
    """A light stem shared by field names and text: "dropped" ~ "drops" ~ "drop", "records" ~ "record"."""
    w = stem(word.lower())
    if len(w) > 4 and w.endswith("ied"):
        w = w[:-3] + "y"
    elif len(w) > 4 and w.endswith(("ed", "ing")):
        w = w[:-2] if w.endswith("ed") else w[:-3]
        if len(w) > 2 and w[-1] == w[-2] and w[-1] not in "aeiouls":
            w = w[:-1]  # "dropped" -> "dropp" -> "drop"; "recalled" keeps its "ll"
    return "drop" if w in _DROP_WORDS else w


def _single_matches(text: str, m: re.Match[str], fields: dict[str, frozenset[str]]) -> list[QuantityMatch]:
    """The field comparisons one number with its cue ("over 2M", "50k+", "2 million") stands for."""
    value = _value(m, "n")
    bare = not (m["cue"] or m["post"])
    if value is None or _is_money(m, "n") or (bare and not _bare_number(text, m)):
        return []
    op = _op(m)
    candidates = _candidates(fields, percent=bool(m["n_pct"]))
    bound, sure = _bind(text, m.start(), m.end(), candidates, bare=bare, after_only=_is_year(m, "n"))
    certainty = sure * (_BARE if bare else 1.0) / max(len(bound), 1)
    return [QuantityMatch(f, op, _plain(value), m[0], m.start(), m.end(), round(certainty, 3)) for f in bound]


def _range_matches(text: str, m: re.Match[str], fields: dict[str, frozenset[str]]) -> list[QuantityMatch]:
    """The field comparisons a range ("between 100 and 500", "from 1k to 5k", "100-500") stands for."""
    values = _range_values(m)
    if values is None or _is_money(m, "low") or _is_money(m, "high"):
        return []
    bare = not m["cue"]
    candidates = _candidates(fields, percent=bool(m["low_pct"] or m["high_pct"]))
    after_only = _is_year(m, "low") or _is_year(m, "high")
    bound, sure = _bind(text, m.start(), m.end(), candidates, bare=bare, after_only=after_only)
    certainty = sure * (_BARE_RANGE if bare else 1.0) / max(len(bound), 1)
    pair = [_plain(v) for v in values]
    return [QuantityMatch(f, "between", pair, m[0], m.start(), m.end(), round(certainty, 3)) for f in bound]


def _range_values(m: re.Match[str]) -> tuple[Decimal, Decimal] | None:
    """Low and high, with the high end's scale shared: "between 1 and 2 million" is 1M to 2M."""
    low, high = _value(m, "low"), _value(m, "high")
    if low is None or high is None:
        return None
    scale = m["high_suffix"] or m["high_scale"]
    if m["low"] and m["high"] and scale and not (m["low_suffix"] or m["low_scale"]) \
            and _value_of(m["low"], None) < _value_of(m["high"], None):
        low = _value_of(m["low"], scale)
    return min(low, high), max(low, high)


def _value(m: re.Match[str], name: str) -> Decimal | None:
    """The number a match group holds, or None for words that are no number ("five six")."""
    if m[f"{name}_words"]:
        return _words_value(m[f"{name}_words"])
    return _value_of(m[name], m[f"{name}_suffix"] or m[f"{name}_scale"])


def _value_of(digits: str, scale: str | None) -> Decimal:
    return Decimal(digits.replace(",", "")).scaleb(_SCALES[scale.lower()] if scale else 0)


def _words_value(words: str) -> Decimal | None:
    """Number words as a number: "two million", "a thousand", "half a million" (text2num reads no "a")."""
    spoken = " ".join(words.lower().split())
    half = spoken.startswith("half ")
    spoken = re.sub(r"^(?:half\s+)?an?\s+", "", spoken)
    try:
        number = Decimal(int(text2num(spoken, "en")))
    except ValueError:
        return None
    return number / 2 if half else number


def _plain(number: Decimal) -> str:
    """A plain decimal string: no exponent, no trailing zeros ("2000000", "1.5")."""
    return format(number.normalize(), "f")


def _op(m: re.Match[str]) -> FilterOp:
    if m["cue"]:
        return _CUES[" ".join(m["cue"].lower().split())]
    if m["post"]:
        return _POSTS[m["post"].split()[-1].lower() if m["post"].strip() != "+" else "+"]
    return "gte"


def _is_money(m: re.Match[str], name: str) -> bool:
    return bool(m[f"{name}_cur"] or m[f"{name}_money"])


def _is_year(m: re.Match[str], name: str) -> bool:
    """Whether a number looks like a year ("2019"); "2,019" does not, and "2019 units" still binds."""
    return bool(m[name] and not (m[f"{name}_suffix"] or m[f"{name}_scale"]) and _YEAR.fullmatch(m[name]))


def _bare_number(text: str, m: re.Match[str]) -> bool:
    """A bare number may be a size, unless it ranks ("top 20") or is the pronoun "one" ("one of the recalls")."""
    words = m["n_words"]
    if words and " ".join(words.lower().split()) == "one":
        return False
    before = _tokens_before(text, m.start())
    return not (before and before[0].lower() in _RANKS)


def _candidates(fields: dict[str, frozenset[str]], *, percent: bool) -> dict[str, frozenset[str]]:
    """A percentage binds only to a percent field (score_drop_pct), a count only to the others."""
    return {name: stems for name, stems in fields.items() if _is_percent(name) == percent}


def _bind(text: str, start: int, end: int, fields: dict[str, frozenset[str]], *, bare: bool,
          after_only: bool) -> tuple[list[str], float]:
    """The fields a number at [start, end) is about, and how surely: words after it win over words before."""
    after = _phrase_after(text, end)
    bound = _best(after, fields)
    if bound:
        return bound, _AFTER_SURE
    # "over 5 alerts" counts alerts, whatever precedes it; "dropped by 80 points" measures what precedes.
    if after_only or any(_stem(w) not in _MEASURES for w in after):
        return [], 0.0
    before = _tokens_before(text, start)
    if bare and not (before and _links_bare(before[0])):
        return [], 0.0
    return _best(_phrase_before(before), fields), _BEFORE_SURE


def _links_bare(word: str) -> bool:
    lower = word.lower()
    return lower in _BARE_LINKS or lower.endswith("ed") or _stem(lower) == "drop"


def _best(words: list[str], fields: dict[str, frozenset[str]]) -> list[str]:
    """The fields sharing most stems with the words; several when they tie, none when none shares one."""
    stems = {_stem(part) for w in words for part in re.split(r"['-]", w)}
    scores = {name: len(field_stems & stems) for name, field_stems in fields.items()}
    best = max(scores.values(), default=0)
    return [name for name, score in scores.items() if best and score == best]


def _phrase_after(text: str, end: int) -> list[str]:
    """Up to three words right after a number, up to a linking word or punctuation ("accounts affected")."""
    words: list[str] = []
    for token in _TOKEN.findall(text, end):
        if not token[0].isalpha() or token.lower() in _STOPS or len(words) == 3:
            break
        words.append(token)
    return words


def _tokens_before(text: str, start: int) -> list[str]:
    """The tokens before a position, nearest first."""
    return _TOKEN.findall(text, 0, start)[::-1]


def _phrase_before(tokens: list[str]) -> list[str]:
    """Up to three content words before a comparison, skipping links ("scores that dropped by")."""
    words: list[str] = []
    for token in tokens:
        lower = token.lower()
        if token == ":" or lower in _LINKS:
            continue
        if not token[0].isalpha() or lower in _STOPS or len(words) == 3:
            break
        words.append(token)
    return words
