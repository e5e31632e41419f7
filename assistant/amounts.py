"""Money in a question: "over $5k" (amount gt 5000), "just under 10k" (lt 10000), "between $1k and $10k".

Numbers that count or score things ("more than 3 alerts", "over 50 points") are not money; numbers
bound to a numeric attribute ("2 million units") are read by assistant/quantities.py first.
"""

from __future__ import annotations

import re
from decimal import Decimal

from assistant.models import Filter, FilterOp

_AMOUNT = (r"(?<![#\w.,-])(?:(?:usd|eur|gbp)\s*)?[$€£]?\s?(?P<{0}>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)"
           r"\s*(?P<{0}_scale>k|m|mn|bn|thousand|million|billion)?\b(?![.,]\d)")
# "more than 3 alerts", "over 50 points": numbers that count or score things are not money.
_NOT_MONEY = (r"(?!\s*(?:%|percent|x\b|times|(?:day|week|month|quarter|year|hour|minute|point|account|alert"
              r"|event|transaction|customer|card|merchant|attempt|incident|case|complaint|chargeback|flag|user"
              r"|entit(?:y|ie)|record|login|device|item)s?\b|people))")
_COMPARISON = re.compile(
    r"(?:\b(?:(?:just|slightly|well)\s+)?(?P<cue>over|above|under|below|exceeding|(?:more|greater|less|fewer)\s+than"
    r"|at\s+(?:least|most)|no\s+(?:more|less)\s+than|upwards\s+of|in\s+excess\s+of)\s+|(?P<sign>[<>]=?)\s*)"
    + _AMOUNT.format("n") + _NOT_MONEY, re.I)
_AMOUNT_RANGE = re.compile(r"\bbetween\s+" + _AMOUNT.format("low") + r"\s*(?:and|to|-)\s*" + _AMOUNT.format("high")
                           + _NOT_MONEY, re.I)
_OPS: dict[str, FilterOp] = {
    "over": "gt", "above": "gt", "exceeding": "gt", "more than": "gt", "greater than": "gt", "upwards of": "gt",
    "in excess of": "gt", ">": "gt", "under": "lt", "below": "lt", "less than": "lt", "fewer than": "lt", "<": "lt",
    "at least": "gte", "no less than": "gte", ">=": "gte", "at most": "lte", "no more than": "lte", "<=": "lte"}
_SCALES = {"k": 3, "thousand": 3, "m": 6, "mn": 6, "million": 6, "bn": 9, "billion": 9}

def amounts_in(text: str) -> list[Filter]:
    """Amount bounds: "over $5k" (gt 5000), "just under 10k" (lt 10000), "between $1k and $10k"."""
    found: list[Filter] = []
    for m in _AMOUNT_RANGE.finditer(text):
        low, high = sorted((_money(m["low"], m["low_scale"]), _money(m["high"], m["high_scale"])))
        found.append(Filter(field="amount", op="between", value=[_plain(low), _plain(high)]))
    for m in _COMPARISON.finditer(text):
        op = _OPS[" ".join((m["cue"] or m["sign"]).lower().split())]
        found.append(Filter(field="amount", op=op, value=_plain(_money(m["n"], m["n_scale"]))))
    return found


def _money(number: str, scale: str | None) -> Decimal:
    return Decimal(number.replace(",", "")).scaleb(_SCALES[scale.lower()] if scale else 0)


def _plain(amount: Decimal) -> str:
    """A plain decimal string: no exponent, no trailing zeros ("5000", "2.5")."""
    return format(amount.normalize(), "f")
