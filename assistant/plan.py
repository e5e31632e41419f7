"""Deterministic planner: a question becomes filters grounded in stored values, with dated ranges."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from assistant.models import Filter, LikeTarget, QueryPlan

MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
          r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
_QUARTER = re.compile(r"(?<![#\w-])(?:(?P<y1>(?:19|20)\d{2})\s*)?q(?P<q>[1-4])"
                      r"(?:\s*(?:of\s+)?(?P<y2>(?:19|20)\d{2}))?\b", re.I)
_MONTH_YEAR = re.compile(rf"\b{_MONTH}\s+((?:19|20)\d{{2}})\b", re.I)
_YEAR = re.compile(r"(?<![#\w-])(?:in\s+)?((?:19|20)\d{2})\b(?!\s*(?:dollars|usd|eur|gbp|k\b))", re.I)
_SEVERITY = re.compile(
    r"\b(?:(low|medium|high|critical)[- ](?:severity|priority)|severity\s+(low|medium|high|critical)"
    r"|(critical))\b", re.I)
ENTITY_ID = re.compile(r"\b[A-Z]{2,6}-\d{2,}\b", re.I)
_LIKE = re.compile(r"\b(?:like|similar to)\s+(?:account\s+|entity\s+|event\s+)?(#?\d+|[A-Z]{2,6}-\d{2,})\b", re.I)
_GENERIC = {"alert", "alerts", "flag", "flags", "change", "changes", "event", "events", "other",
            "or", "and", "the", "of", "a", "an", "to", "not", "on", "your", "my", "i"}


@dataclass
class Vocabulary:
    """Values stored in the database that question phrases may be grounded in."""

    categories: list[str] = field(default_factory=list)
    subcategories: list[str] = field(default_factory=list)
    known_entities: set[str] = field(default_factory=set)


def make_plan(question: str, vocabulary: Vocabulary, as_of: dt.date, k: int = 20) -> QueryPlan:
    """Turn a question into a plan without an LLM; every filter value exists in the vocabulary."""
    notes: list[str] = []
    filters, semantic = _dates(question, as_of, notes)
    filters += _severity(question)
    filters += _values("category", vocabulary.categories, question, distinctive=True)
    filters += _values("subcategory", vocabulary.subcategories, question, distinctive=False)
    like = _like(question)
    filters += _entities(question, vocabulary.known_entities, like, notes)
    query = re.sub(r"\s+(?:in|during|for|from)$", "", re.sub(r"\s+", " ", semantic).strip(" ,.?")) or question
    return QueryPlan(question=question, query=query, filters=filters, like=like, k=k,
                     as_of=as_of, notes=notes)


def quarter_range(year: int, quarter: int) -> tuple[dt.date, dt.date]:
    """First day of a calendar quarter and first day after it."""
    start = dt.date(year, 3 * quarter - 2, 1)
    return start, _add_months(start, 3)


def _dates(question: str, as_of: dt.date, notes: list[str]) -> tuple[list[Filter], str]:
    """Date filters (gte start, lt end) and the question with its date phrases removed."""
    for pattern, resolve in ((_QUARTER, _quarter), (_MONTH_YEAR, _month), (_YEAR, _year)):
        match = pattern.search(question)
        if match:
            start, end, label = resolve(match, as_of, notes)
            notes.append(f"{label} = {start.isoformat()} to {(end - dt.timedelta(days=1)).isoformat()}")
            rest = question[:match.start()] + " " + question[match.end():]
            return [Filter(field="occurred_at", op="gte", value=start.isoformat()),
                    Filter(field="occurred_at", op="lt", value=end.isoformat())], rest
    return [], question


def _quarter(match: re.Match[str], as_of: dt.date, notes: list[str]) -> tuple[dt.date, dt.date, str]:
    quarter = int(match["q"])
    year_text = match["y1"] or match["y2"]
    if year_text:
        year = int(year_text)
    else:
        # A bare "Q4" is the latest Q4 that has begun by the as-of date.
        year = as_of.year if quarter_range(as_of.year, quarter)[0] <= as_of else as_of.year - 1
        notes.append(f"bare Q{quarter} read as Q{quarter} {year}, the latest that began by {as_of}")
    start, end = quarter_range(year, quarter)
    return start, end, f"Q{quarter} {year}"


def _month(match: re.Match[str], _: dt.date, __: list[str]) -> tuple[dt.date, dt.date, str]:
    month = MONTHS.index(match[1][:3].lower()) + 1
    start = dt.date(int(match[2]), month, 1)
    return start, _add_months(start, 1), start.strftime("%B %Y")


def _year(match: re.Match[str], _: dt.date, __: list[str]) -> tuple[dt.date, dt.date, str]:
    year = int(match[1])
    return dt.date(year, 1, 1), dt.date(year + 1, 1, 1), str(year)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.month - 1 + months
    return dt.date(day.year + index // 12, index % 12 + 1, 1)


def _severity(question: str) -> list[Filter]:
    match = _SEVERITY.search(question)
    if not match:
        return []
    level = next(group for group in match.groups() if group).lower()
    return [Filter(field="severity", op="eq", value=level)]


def _values(field_name: str, stored: list[str], question: str, distinctive: bool) -> list[Filter]:
    """Stored values named in the question: as a phrase, or (for categories) by a word only they have."""
    words = _words(question)
    text = " " + " ".join(words) + " "
    found = [v for v in stored if " " + " ".join(_words(v)) + " " in text
             or " " + " ".join(_words(v)) + "s " in text]
    if not found and distinctive:
        owners: dict[str, set[str]] = {}
        for value in stored:
            for word in set(_words(value)) - _GENERIC:
                owners.setdefault(word, set()).add(value)
        found = sorted({next(iter(v)) for w, v in owners.items() if len(v) == 1
                        and (w in words or w + "s" in words or (w.endswith("s") and w[:-1] in words))})
    if not found:
        return []
    if len(found) == 1:
        return [Filter(field=field_name, op="eq", value=found[0])]
    return [Filter(field=field_name, op="in", value=sorted(found))]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def _like(question: str) -> LikeTarget | None:
    match = _LIKE.search(question)
    if not match:
        return None
    target = match[1]
    if target.lstrip("#").isdigit():
        return LikeTarget(kind="event", value=target.lstrip("#"))
    return LikeTarget(kind="entity", value=target.upper())


def _entities(question: str, known: set[str], like: LikeTarget | None, notes: list[str]) -> list[Filter]:
    ids = {m.upper() for m in ENTITY_ID.findall(question)}
    if like is not None:
        ids.discard(like.value)
    found = sorted(ids & known)
    for unknown in sorted(ids - known):
        notes.append(f"{unknown} is not a stored entity id; it was not used as a filter")
    if not found:
        return []
    if len(found) == 1:
        return [Filter(field="entity_id", op="eq", value=found[0])]
    return [Filter(field="entity_id", op="in", value=found)]
