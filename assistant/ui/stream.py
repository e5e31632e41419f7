"""An answer's stages as page updates: the plan's chips first, then the evidence, the chart, the themes,
the summary as it is written, and the checked answer replacing the draft."""

from __future__ import annotations

import json
from typing import Any

import gradio as gr

from assistant.models import (
    Answer,
    AnswerEvent,
    EventHit,
    EvidenceEvent,
    FactsEvent,
    Note,
    PlanEvent,
    QueryPlan,
    StreamEvent,
    SummaryDelta,
    ThemesEvent,
)
from assistant.render.markdown import escape
from assistant.ui.export import write_exports
from assistant.ui.layout import View
from assistant.ui.panels import anomalies_markdown, chart_frame, chart_title, themes_markdown
from assistant.ui.plan_edit import date_range, plan_chips
from assistant.ui.render import format_draft, format_plan, format_reply, ordered_hits
from assistant.ui.session import Message, Session
from assistant.ui.table import evidence_html

Updates = dict[Any, Any]
NO_FILTERS = "*No filters: every stored event was searched.*"
PLAN_NOTE_KINDS = ("planner", "relaxed", "like")


def bot(content: str) -> Message:
    """An assistant chat message."""
    return {"role": "assistant", "content": content}


class AnswerView:
    """One answer being shown: keeps the chat's draft message and turns each stage into updates."""

    def __init__(self, view: View, session: Session, asked: str, editable: list[str]) -> None:
        self.view = view
        self.session = session
        self.editable = editable  # the fields the value editor offers
        self.history: list[Message] = [*session.history, {"role": "user", "content": asked},
                                       bot(format_draft("", "Reading the question"))]
        self.draft = ""

    def start(self) -> Updates:
        """The analyst's message and a placeholder reply, before anything has run."""
        return {self.view.chat: list(self.history), self.view.question: "", self.view.feedback_status: ""}

    def update(self, event: StreamEvent) -> Updates:
        """The updates for one stage of the stream."""
        if isinstance(event, PlanEvent):
            return self._plan(event.plan, event.notes)
        if isinstance(event, EvidenceEvent):
            return self._evidence(event)
        if isinstance(event, FactsEvent):
            v = self.view
            return {**self._chat("Finding themes and unusual events"), v.chart: chart_frame(event.facts),
                    v.chart_caption: f"**{chart_title(event.facts)}**", v.chart_box: gr.Column(visible=True),
                    v.chart_hint: gr.Markdown(visible=False)}
        if isinstance(event, ThemesEvent):
            return {**self._chat("Writing the summary"), self.view.themes: themes_markdown(event.themes),
                    self.view.anomalies: anomalies_markdown(event.anomalies)}
        if isinstance(event, SummaryDelta):
            self.draft += event.text
            return self._chat("Writing the summary")
        return self._answer(event)

    def error(self, message: str) -> Updates:
        """The reply replaced by a readable error; the session keeps the turn."""
        self.history[-1] = bot(f"**Could not answer:** {escape(message)}")
        self.session.history = self.history
        return {self.view.chat: list(self.history), self.view.session: self.session}

    def _chat(self, stage: str) -> Updates:
        self.history[-1] = bot(format_draft(self.draft, stage))
        return {self.view.chat: list(self.history)}  # a copy per update: each is the page at that stage

    def _plan(self, plan: QueryPlan, notes: list[Note]) -> Updates:
        self.session.last_plan = plan
        chips = plan_chips(plan)
        start, end = date_range(plan)
        v = self.view
        return {
            **self._chat("Retrieving the evidence"), v.session: self.session,
            # gr.update, not gr.Dropdown(...): the constructor warns about any multiselect value list.
            v.chips: gr.update(choices=[c.label for c in chips], value=[c.label for c in chips], visible=bool(chips)),
            v.chips_hint: gr.Markdown(NO_FILTERS, visible=not chips), v.editor: gr.Accordion(visible=True),
            v.date_from: start.isoformat() if start else None, v.date_to: end.isoformat() if end else None,
            v.field: gr.update(choices=self.editable, value=edited_field(plan, self.editable)),
            **self._plan_text(plan, notes),
        }

    def _plan_text(self, plan: QueryPlan, notes: list[Note]) -> Updates:
        shown = [n for n in notes if n.kind in PLAN_NOTE_KINDS]
        return {self.view.plan: format_plan(plan, shown),
                self.view.plan_code: json.dumps(plan.model_dump(mode="json"), indent=2)}

    def _evidence(self, event: EvidenceEvent) -> Updates:
        label = f"{event.matched:,} events match · the {len(event.hits)} best-ranked listed"
        return {**self._chat("Computing the facts"), **self._table(event.hits, set(), label)}

    def _table(self, hits: list[EventHit], cited: set[int], label: str) -> Updates:
        # Only new HTML (and visibility, which is a no-op once shown): no table configuration to re-send.
        return {self.view.table: gr.update(value=evidence_html(hits, cited, label), visible=True),
                self.view.evidence_hint: gr.Markdown(visible=False)}

    def _answer(self, event: AnswerEvent) -> Updates:
        answer = event.answer
        self.history[-1] = bot(format_reply(answer))
        self.session.history = self.history
        self.session.answer_ids[len(self.history) - 1] = answer.id
        self.session.last_plan = answer.plan
        v = self.view
        return {v.chat: list(self.history), v.session: self.session, **self._final_table(answer),
                **self._plan_text(answer.plan, answer.notes), **self._downloads(answer),
                v.feedback_status: "*Rate the answer with the thumbs under it; a comment is optional.*"}

    def _final_table(self, answer: Answer) -> Updates:
        hits = ordered_hits(answer)
        cited = set(answer.citations) & {hit.id for hit in hits}
        label = (f"{answer.facts.matched:,} events match · {len(cited)} cited (✓, first), "
                 f"then {len(hits) - len(cited)} more of the best-ranked")
        return self._table(hits, cited, label)

    def _downloads(self, answer: Answer) -> Updates:
        files = write_exports(answer)
        paths = (files.evidence_csv, files.evidence_markdown, files.answer_markdown)
        return {button: gr.update(value=str(path), visible=True)
                for button, path in zip(self.view.downloads, paths, strict=True)}


def edited_field(plan: QueryPlan, editable: list[str]) -> str | None:
    """The field the value editor opens on: the plan's first editable value filter, else the first editable."""
    chosen = (f.field for f in plan.filters if f.op in ("eq", "in") and f.field in editable)
    return next(chosen, editable[0] if editable else None)
