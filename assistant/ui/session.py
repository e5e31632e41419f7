"""What one browser session remembers: its chat, the last plan (follow-ups refine it) and its answers' ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assistant.models import QueryPlan

Message = dict[str, Any]


@dataclass
class Session:
    """One browser session's conversation (gradio keeps one per tab, in a gr.State)."""

    history: list[Message] = field(default_factory=list)
    last_plan: QueryPlan | None = None
    answer_ids: dict[int, str] = field(default_factory=dict)  # chat message index -> recorded answer id

    def answer_at(self, index: Any) -> str | None:
        """The id of the answer shown at a chat message index, if that message is an answer."""
        position = index[0] if isinstance(index, list | tuple) else index
        return self.answer_ids.get(position) if isinstance(position, int) else None
