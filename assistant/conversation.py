"""A conversation: one analyst's thread of questions, in which follow-ups refine the last plan that ran.

The refining itself happens in the pipeline (assistant/followup.py): a conversation only remembers
the last plan and passes it with the next question, as every front does.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from assistant.followup import is_follow_up, refine
from assistant.models import Answer, QueryPlan

if TYPE_CHECKING:
    from assistant.api import AnswerStream, RiskAssistant

__all__ = ["Conversation", "is_follow_up", "refine"]


class Conversation:
    """One analyst's thread of questions over a RiskAssistant; it remembers the last plan that ran."""

    def __init__(self, assistant: RiskAssistant, analyst: str = "local") -> None:
        self.assistant = assistant
        self.analyst = analyst
        self.last_plan: QueryPlan | None = None

    def ask(self, question: str, *, as_of: dt.date | None = None) -> Answer:
        """Answer a question, refining the previous plan when the question is a follow-up."""
        return self.ask_stream(question, as_of=as_of).answer()

    def ask_stream(self, question: str, *, as_of: dt.date | None = None) -> AnswerStream:
        """The answer's stream; the conversation keeps its plan once the plan stage has run."""
        stream = self.assistant.ask_stream(question, as_of=as_of, previous=self.last_plan, analyst=self.analyst)
        stream.on_plan = self._remember
        return stream

    def plan(self, question: str, *, as_of: dt.date | None = None) -> QueryPlan:
        """The plan a question would run in this conversation."""
        return self.assistant.plan(question, as_of=as_of, previous=self.last_plan)

    def reset(self) -> None:
        """Forget the last plan: the next question starts fresh."""
        self.last_plan = None

    def _remember(self, plan: QueryPlan) -> None:
        self.last_plan = plan
