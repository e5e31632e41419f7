"""Follow-up questions: a conversation keeps its last plan and refines it instead of starting over."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from assistant.models import Answer, Filter, QueryPlan

if TYPE_CHECKING:
    from assistant.api import RiskAssistant

_FOLLOW_UP = re.compile(
    r"^\s*(?:(?:and|but|now|then|ok|okay)[\s,]+)?(?:only|just|what about|how about|and|but|also|exclude|excluding|"
    r"except|without|same but|restrict to|limit to|narrow to|instead)\b", re.I)
_RESET = re.compile(r"^\s*(?:new question|start over|reset)\s*[:,.-]?\s*", re.I)
_NEGATIVE_OPS = ("ne", "not_in")


class Conversation:
    """One analyst's thread of questions over a RiskAssistant; it remembers the last plan that ran."""

    def __init__(self, assistant: RiskAssistant) -> None:
        self.assistant = assistant
        self.last_plan: QueryPlan | None = None

    def ask(self, question: str, *, as_of: dt.date | None = None) -> Answer:
        """Answer a question, refining the previous plan when the question is a follow-up."""
        plan = self.plan(question, as_of=as_of)
        answer = self.assistant.ask(question, plan=plan, exact=False)  # the planner's plan: relaxed if empty
        self.last_plan = answer.plan
        return answer

    def plan(self, question: str, *, as_of: dt.date | None = None) -> QueryPlan:
        """The plan a question would run in this conversation."""
        text, reset = _RESET.sub("", question), bool(_RESET.match(question))
        new = self.assistant.plan(text, as_of=as_of)
        previous = self.last_plan
        if reset or previous is None or not is_follow_up(text):
            return new
        if any(note.startswith("bare ") for note in new.notes):
            # "what about Q3?" after a Q4 2025 question means Q3 2025, not the latest Q3.
            anchor = _period_end(previous)
            if anchor is not None and anchor < new.as_of:
                new = self.assistant.plan(text, as_of=anchor).model_copy(update={"as_of": new.as_of})
        return refine(previous, new)

    def reset(self) -> None:
        """Forget the last plan: the next question starts fresh."""
        self.last_plan = None


def is_follow_up(text: str) -> bool:
    """True for questions that refine the previous one ("only high severity", "what about Q3?")."""
    return bool(_FOLLOW_UP.match(text))


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


def _period_end(plan: QueryPlan) -> dt.date | None:
    """The last day of the previous plan's date range, if it had an upper bound."""
    ends = [f for f in plan.filters if f.field == "occurred_at" and f.op == "lt"]
    return _as_date(ends[0]) - dt.timedelta(days=1) if ends else None


def _as_date(f: Filter) -> dt.date:
    return dt.date.fromisoformat(str(f.value)[:10])
