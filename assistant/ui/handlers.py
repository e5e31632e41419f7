"""Event handlers: each turns a click into assistant calls and yields the page's updates; no SQL, no rendering."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import gradio as gr
from pydantic import ValidationError

from assistant import registry
from assistant.analysts import LOCAL, front_analyst
from assistant.db import Database
from assistant.errors import AssistantError, redact
from assistant.models import QueryPlan, Rating
from assistant.render.markdown import escape
from assistant.ui.examples import example_questions
from assistant.ui.layout import EVENT_HINT, EVENT_TAB, View
from assistant.ui.panels import event_markdown
from assistant.ui.plan_edit import field_values, keep_chips, parse_day, with_date_range, with_field_values
from assistant.ui.render import format_question, format_status
from assistant.ui.session import Session
from assistant.ui.stream import AnswerView, Updates

if TYPE_CHECKING:
    from assistant.api import AnswerStream, RiskAssistant

log = logging.getLogger(__name__)

VALUE_FIELDS = ("category", "subcategory", "severity", "status", "currency")
UNEXPECTED = "Something went wrong while answering (the details are in the server log). Please try again."


class Handlers:
    """Handlers bound to one assistant and one page layout."""

    def __init__(self, assistant: RiskAssistant, view: View) -> None:
        self.assistant = assistant
        self.view = view

    # --- page load -------------------------------------------------------------------------------------------

    def load(self, request: gr.Request) -> Updates:
        """Fill the header, the example questions and the value editor; open a deep-linked ?event=<id>."""
        v = self.view
        db = self._db(request)
        examples = self._examples(db)
        updates: Updates = {
            v.status: self.status(db), v.field: gr.update(choices=self._editable_fields(db)),
            **{button: gr.Button(value=text, visible=True) for button, text in zip(v.examples, examples, strict=False)},
        }
        event = _query_param(request, "event").lstrip("#")
        if event:
            updates.update(self.open_event(event, request))
        return updates

    def status(self, db: Database) -> str:
        """The header line, recomputed on every page load: the events this analyst may see."""
        try:
            row = db.fetch_one("count_events")
            count: int | None = int(row["n"]) if row else 0
        except AssistantError as err:
            log.warning("could not count events: %s", err)
            count = None
        return format_status(count, self.assistant.mode)

    # --- asking ----------------------------------------------------------------------------------------------

    def ask(self, question: str, as_of_text: str | None, session: Session, request: gr.Request) -> Iterator[Updates]:
        """Answer a question in the session's conversation: a follow-up refines the last plan."""
        text = (question or "").strip()
        if not text:
            gr.Warning("Type a question first, or pick one of the examples.")
            yield gr.skip()
            return
        try:
            as_of = parse_as_of(as_of_text)
        except ValueError as err:
            yield from self._refuse(session, format_question(text), str(err))
            return
        conversation = self.assistant.conversation(self._analyst(request))
        conversation.last_plan = session.last_plan
        yield from self._run(session, format_question(text), lambda: conversation.ask_stream(text, as_of=as_of),
                             request)

    def ask_deep_link(self, session: Session, request: gr.Request) -> Iterator[Updates]:
        """Answer the ?q= question of a deep link (with optional ?as_of=) when the page opens."""
        question = _query_param(request, "q")
        if not question:
            yield gr.skip()  # a generator that yields nothing would blank every output
            return
        yield from self.ask(question, _query_param(request, "as_of"), session, request)

    def remove_chip(self, kept: list[str] | None, session: Session, request: gr.Request) -> Iterator[Updates]:
        """Re-run the last plan with only the chips still shown."""
        if session.last_plan is None:
            yield gr.skip()
            return
        yield from self._rerun(session, keep_chips(session.last_plan, kept or []), request)

    def apply_dates(self, start: Any, end: Any, session: Session, request: gr.Request) -> Iterator[Updates]:
        """Re-run the last plan over another date range."""
        if session.last_plan is None:
            yield gr.skip()
            return
        try:
            plan = with_date_range(session.last_plan, parse_day(start), parse_day(end))
        except ValueError as err:
            yield from self._refuse(session, "*(change the dates)*", f"Those dates do not work: {err}.")
            return
        yield from self._rerun(session, plan, request)

    def apply_values(self, field: str | None, values: list[str] | None, session: Session,
                     request: gr.Request) -> Iterator[Updates]:
        """Re-run the last plan with a field's values chosen from those stored."""
        if session.last_plan is None or not field:
            yield gr.skip()
            return
        yield from self._rerun(session, with_field_values(session.last_plan, field, values or []), request)

    def run_json(self, text: str, session: Session, request: gr.Request) -> Iterator[Updates]:
        """Run a plan edited as JSON, exactly, after the same validation as any plan."""
        try:
            plan = QueryPlan.model_validate_json(text or "")
        except ValidationError as err:
            yield from self._refuse(session, "*(run the edited plan)*", f"The edited plan is not valid: {_first(err)}")
            return
        yield from self._rerun(session, plan, request, "the plan edited as JSON")

    def find_similar(self, event_id: Any, session: Session, request: gr.Request) -> Iterator[Updates]:
        """Ask a fresh question for the events most like one event (its vector; the shared fields shown)."""
        if event_id in (None, ""):
            yield gr.skip()
            return
        question = f"events like #{int(event_id)}"
        stream = self.assistant.conversation(self._analyst(request)).ask_stream
        yield from self._run(session, format_question(question), lambda: stream(question), request)

    def _rerun(self, session: Session, plan: QueryPlan, request: gr.Request, what: str = "") -> Iterator[Updates]:
        edit = what or (plan.notes[-1] if plan.notes else "the plan edited")
        asked = f"*(re-run of “{escape(plan.question)}”, {escape(edit)})*"
        yield from self._run(session, asked, lambda: self.assistant.ask_stream(
            plan.question, plan=plan, analyst=self._analyst(request)), request)

    def _run(self, session: Session, asked: str, start: Callable[[], AnswerStream],
             request: gr.Request) -> Iterator[Updates]:
        shown = AnswerView(self.view, session, asked, self._editable_fields(self._db(request)))
        yield shown.start()
        try:
            for event in start():
                yield shown.update(event)
        except AssistantError as err:
            log.warning("question failed: %s", err)
            yield shown.error(redact(str(err), self.assistant.settings.secret_values()))
        except Exception:
            log.exception("question failed unexpectedly")  # the traceback goes to the log, never to the page
            yield shown.error(UNEXPECTED)

    def _refuse(self, session: Session, asked: str, message: str) -> Iterator[Updates]:
        shown = AnswerView(self.view, session, asked, [])
        yield shown.error(message)

    # --- value editor, event detail, feedback --------------------------------------------------------------

    def field_changed(self, field: str | None, session: Session, request: gr.Request) -> Updates:
        """The stored values of the chosen field (of the analyst's scopes), with the last plan's values for it
        selected."""
        if not field:
            return {self.view.values: gr.update(choices=[], value=[])}
        stored = registry.stored_values(self._db(request), [field])[field]
        chosen = field_values(session.last_plan, field) if session.last_plan else []
        return {self.view.values: gr.update(choices=stored, value=[c for c in chosen if c in stored])}

    def open_event(self, event_id: Any, request: gr.Request) -> Updates:
        """One event in full in the Event tab, with its "find similar" button (an event outside the analyst's
        scopes is one that does not exist)."""
        v = self.view
        try:
            number = int(str(event_id).strip().lstrip("#"))
        except ValueError:
            return {v.event: f"*{escape(str(event_id))} is not an event id.*", v.tabs: gr.Tabs(selected=EVENT_TAB)}
        rows = self._db(request).fetch_all("select_events_by_ids", {"ids": [number]})
        if not rows:
            return {v.event: f"*No event has id {number}.*", v.event_id: number, v.similar: gr.Button(visible=False),
                    v.tabs: gr.Tabs(selected=EVENT_TAB)}
        return {v.event: event_markdown(rows[0]), v.event_id: number, v.similar: gr.Button(visible=True),
                v.tabs: gr.Tabs(selected=EVENT_TAB)}

    def select_row(self, data: gr.EventData, request: gr.Request) -> Updates:
        """Open the event of the evidence row clicked (the table's script sends the row's id)."""
        event_id = getattr(data, "event_id", None)
        return self.open_event(event_id, request) if event_id not in (None, "") else {self.view.event: EVENT_HINT}

    def feedback(self, comment: str | None, session: Session, data: gr.LikeData, request: gr.Request) -> Updates:
        """Store a thumbs up / down on an answer (with the comment typed, if any) against its recorded id."""
        v = self.view
        answer_id = session.answer_at(data.index)
        if answer_id is None or data.liked not in (True, False):
            return {v.feedback_status: "*Only answers can be rated.*"}
        rating: Rating = "up" if data.liked is True else "down"
        try:
            self.assistant.record_feedback(answer_id, rating, comment=(comment or "").strip() or None,
                                           analyst=self._analyst(request), source="ui")
        except AssistantError as err:
            log.warning("feedback failed: %s", err)
            message = redact(str(err), self.assistant.settings.secret_values())
            return {v.feedback_status: f"**Feedback not recorded:** {escape(message)}"}
        thumb = "thumbs up" if rating == "up" else "thumbs down"
        noted = " with your comment" if (comment or "").strip() else ""
        return {v.feedback_status: f"Thanks: {thumb} recorded{noted} for answer {answer_id[:8]}.", v.comment: ""}

    def _analyst(self, request: gr.Request | None) -> str:
        """Who is asking: the analyst of the signed-in user when the app has auth (see
        analysts.front_analyst), else the local analyst."""
        login = getattr(request, "username", None) if request is not None else None
        return front_analyst(self.assistant.db, "ui", str(login)) if login else LOCAL

    def _db(self, request: gr.Request | None) -> Database:
        """The database as the analyst behind this request may see it."""
        return self.assistant.db_for(self._analyst(request))

    def _examples(self, db: Database) -> list[str]:
        try:
            return example_questions(db)
        except AssistantError as err:
            log.warning("could not draw example questions: %s", err)
            return []

    def _editable_fields(self, db: Database) -> list[str]:
        try:
            stored = registry.stored_values(db, list(VALUE_FIELDS))
            return [f for f in VALUE_FIELDS if stored[f]] + sorted(registry.choices(db))
        except AssistantError as err:
            log.warning("could not read the stored values: %s", err)
            return []


def parse_as_of(text: str | None) -> dt.date | None:
    """The as-of date typed by the analyst, None when blank; ValueError (in words) when not YYYY-MM-DD."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    try:
        return dt.date.fromisoformat(cleaned)
    except ValueError:
        raise ValueError(f"As-of date {cleaned!r} is not a date; use YYYY-MM-DD or leave it blank for today.") from None



def _query_param(request: gr.Request | None, name: str) -> str:
    params = dict(request.query_params) if request is not None else {}
    return str(params.get(name, "")).strip()


def _first(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "plan"
    return f"{where}: {first['msg']}"
