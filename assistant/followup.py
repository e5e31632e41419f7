"""Follow-up questions: "only high severity", "what about Q3?" refine the previous plan instead of starting over."""

from __future__ import annotations

import datetime as dt
import re

from assistant.models import Filter, QueryPlan

_FOLLOW_UP = re.compile(
    r"^\s*(?:(?:and|but|now|then|ok|okay)[\s,]+)?(?:only|just|what about|how about|and|but|also|exclude|excluding|"
    r"except|without|same but|restrict to|limit to|narrow to|instead)\b", re.I)
_RESET = re.compile(r"^\s*(?:new question|start over|reset)\s*[:,.-]?\s*", re.I)
_NEGATIVE_OPS = ("ne", "not_in")


def strip_reset(question: str) -> tuple[str, bool]:
    """The question without a leading "new question:" / "start over", and whether it had one."""
    return _RESET.sub("", question), bool(_RESET.match(question))


def is_follow_up(text: str) -> bool:
    """True for questions that refine the previous one ("only high severity", "what about Q3?")."""
    return bool(_FOLLOW_UP.match(text))


def is_bare_period(plan: QueryPlan) -> bool:
    """True when the planner read a period without a year ("Q3"), which a follow-up anchors to the last one."""
    return any(note.startswith("bare ") for note in plan.notes)


def refine(previous: QueryPlan, follow_up: QueryPlan) -> QueryPlan:
    """The previous plan with the follow-up's conditions: a field it constrains again is replaced."""
    replaced = {f.field for f in follow_up.filters if f.op not in _NEGATIVE_OPS}
    kept = [f for f in previous.filters if f.field not in replaced]
    added = [f for f in follow_up.filters if f not in kept]
    summary = "; ".join(map(str, kept)) or "no filters"
    return QueryPlan(
        question=follow_up.question, query=previous.query, keywords=previous.keywords,
        filters=kept + added, like=follow_up.like or previous.like, k=previous.k, as_of=follow_up.as_of,
        notes=[*follow_up.notes, f"follow-up: refines “{previous.question}”, keeping {summary}"],
    )


def period_end(plan: QueryPlan) -> dt.date | None:
    """The last day of a plan's date range, if it had an upper bound."""
    ends = [f for f in plan.filters if f.field == "occurred_at" and f.op == "lt"]
    return _as_date(ends[0]) - dt.timedelta(days=1) if ends else None


def _as_date(f: Filter) -> dt.date:
    return dt.date.fromisoformat(str(f.value)[:10])
