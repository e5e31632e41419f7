"""The Gradio web UI: a chat over RiskAssistant.ask, with the plan that ran and the cited events.

Deep links: `/?q=<question>&as_of=YYYY-MM-DD` asks the question as soon as the page opens.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
import pandas as pd
from pydantic import ValidationError

from assistant.errors import AssistantError
from assistant.models import Answer, QueryPlan
from assistant.ui.render import (
    EVENT_COLUMN_WIDTHS,
    EVENT_COLUMNS,
    EVENT_DATATYPES,
    event_rows,
    format_plan,
    format_reply,
    format_status,
    redact,
)

if TYPE_CHECKING:
    from assistant.api import RiskAssistant
    from assistant.config import Settings

log = logging.getLogger(__name__)

EXAMPLE_QUESTIONS: tuple[str, ...] = (
    "Q4 2025 card-not-present fraud patterns",
    "structuring cash deposits just under 10k in March 2026",
    "large credit score drops in Q2 2026",
    "high severity AML alerts in 2026",
)
PLAN_PLACEHOLDER = "*Ask a question to see the filters, query text and as-of date that ran.*"
TABLE_LABEL = "Cited events"
# One question at a time across every trigger: the assistant holds one database connection
# and one embedding model, so its calls are also serialised by a lock.
CONCURRENCY_ID = "ask"

History = list[dict[str, Any]]
Outputs = tuple[History, str, str, dict[str, Any], Any]


@dataclass
class _View:
    """The components that event handlers read and write."""

    chat: gr.Chatbot
    question: gr.Textbox
    as_of: gr.Textbox
    ask: gr.Button
    examples: list[gr.Button]
    plan: gr.Markdown
    plan_json: gr.JSON
    plan_edit: gr.Code
    run_plan: gr.Button
    events: gr.Dataframe

    def outputs(self) -> list[Any]:
        """Return the components every answer updates, in the order handlers return them."""
        return [self.chat, self.question, self.plan, self.plan_json, self.events]


class Handlers:
    """Event handlers bound to one assistant; they only call assistant.ask and render."""

    def __init__(self, assistant: RiskAssistant) -> None:
        self.assistant = assistant
        self._lock = threading.Lock()

    def status(self) -> str:
        """Return the header line, recomputed on every page load."""
        try:
            with self._lock:
                count: int | None = self.assistant.count_events()
        except AssistantError as err:
            log.warning("could not count events: %s", err)
            count = None
        return format_status(count, self.assistant.mode)

    def ask(self, question: str, history: History | None, as_of_text: str | None,
            last_plan: dict[str, Any] | None = None) -> Outputs:
        """Answer one question (a follow-up refines `last_plan`, the plan shown on the page)."""
        text = (question or "").strip()
        if not text:
            raise gr.Error("Type a question first, or pick one of the examples.", print_exception=False)
        as_of = parse_as_of(as_of_text)
        previous = QueryPlan.model_validate(last_plan) if last_plan else None
        answer = self._guarded(lambda: self._converse(text, as_of, previous))
        return render_outputs(answer, history or [])

    def run_plan(self, text: str, history: History | None) -> Outputs:
        """Run a plan the analyst edited: exactly it, after the same validation as any plan."""
        try:
            plan = QueryPlan.model_validate_json(text or "")
        except ValidationError as err:
            raise gr.Error(f"The edited plan is not valid: {_first_error(err)}", print_exception=False) from None
        answer = self._guarded(lambda: self.assistant.ask(plan.question, plan=plan))
        return render_outputs(answer, history or [])

    def _converse(self, text: str, as_of: dt.date | None, previous: QueryPlan | None) -> Answer:
        conversation = self.assistant.conversation()
        conversation.last_plan = previous
        return conversation.ask(text, as_of=as_of)

    def _guarded(self, run: Callable[[], Answer]) -> Answer:
        """One call at a time; the core's errors become a gr.Error with secrets blanked out."""
        try:
            with self._lock:
                return run()
        except AssistantError as err:
            log.warning("question failed: %s", err)
            message = redact(str(err), secret_values(self.assistant.settings))
            raise gr.Error(message, print_exception=False) from err

    def load(self, request: gr.Request) -> tuple[Any, ...]:
        """Answer the ?q= question of a deep link (with optional ?as_of=) when the page opens."""
        params = dict(request.query_params) if request is not None else {}
        question = str(params.get("q", "")).strip()
        as_of_text = str(params.get("as_of", "")).strip()
        if not question:
            return tuple(gr.skip() for _ in range(6))
        return (*self.ask(question, [], as_of_text), as_of_text)


def build_app(assistant: RiskAssistant) -> gr.Blocks:
    """Build the Risk Assistant web UI over an open assistant; serve() launches it."""
    handlers = Handlers(assistant)
    app = gr.Blocks(title="Risk Assistant", analytics_enabled=False, fill_width=True)
    with app:
        gr.Markdown("# Risk Assistant")
        gr.Markdown(handlers.status)
        view = _build_view()
        _wire(app, view, handlers)
    return app


def serve(assistant: RiskAssistant) -> None:
    """Serve the web UI on settings.ui_host:ui_port until interrupted; no share link, no analytics."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    settings = assistant.settings
    app = build_app(assistant)
    app.queue(default_concurrency_limit=1)
    app.launch(
        server_name=settings.ui_host,
        server_port=settings.ui_port,
        share=False,
        show_error=False,
        footer_links=["api", "settings"],
    )


def render_outputs(answer: Answer, history: History) -> Outputs:
    """Return the handler outputs for an answer: chat, cleared question, plan, plan JSON, table."""
    turn = [
        {"role": "user", "content": answer.question},
        {"role": "assistant", "content": format_reply(answer)},
    ]
    rows = event_rows(answer)
    cited = len(set(answer.citations) & {hit.id for hit in answer.events})
    label = f"{TABLE_LABEL} — {cited} cited first, then {len(rows) - cited} more retrieved"
    table = gr.Dataframe(value=pd.DataFrame(rows, columns=list(EVENT_COLUMNS)), label=label)
    plan = format_plan(answer.plan, [n for n in answer.notes if n.kind in ("planner", "relaxed", "like")])
    return [*history, *turn], "", plan, answer.plan.model_dump(mode="json"), table


def parse_as_of(text: str | None) -> dt.date | None:
    """Return the as-of date typed by the user, None when blank; gr.Error when not YYYY-MM-DD."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None
    try:
        return dt.date.fromisoformat(cleaned)
    except ValueError:
        message = f"As-of date {cleaned!r} is not a date; use YYYY-MM-DD or leave it blank for today."
        raise gr.Error(message, print_exception=False) from None


def plan_text(plan: dict[str, Any] | None) -> str:
    """The plan shown on the page, as editable JSON."""
    return json.dumps(plan, indent=2) if plan else ""


def _first_error(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "plan"
    return f"{where}: {first['msg']}"


def secret_values(settings: Settings) -> list[str]:
    """Return the configured secret values, so error messages can be scrubbed of them."""
    secrets = (settings.database_url, settings.openai_api_key)
    return [secret.get_secret_value() for secret in secrets if secret is not None]


def _build_view() -> _View:
    with gr.Row(equal_height=False):
        with gr.Column(scale=3):
            chat = gr.Chatbot(
                label="Conversation", height=560, layout="bubble", buttons=["copy", "copy_all"],
            )
            with gr.Row():
                question = gr.Textbox(
                    placeholder="Ask about risk events, e.g. fraud patterns last quarter",
                    show_label=False, scale=6, autofocus=True,
                )
                as_of = gr.Textbox(placeholder="as of YYYY-MM-DD", show_label=False, scale=2, min_width=170)
                ask = gr.Button("Ask", variant="primary", scale=1, min_width=80)
            gr.Markdown("**Examples**")
            with gr.Row():
                examples = [gr.Button(text, size="sm", variant="secondary") for text in EXAMPLE_QUESTIONS]
        with gr.Column(scale=2):
            gr.Markdown("### Plan that ran")
            plan = gr.Markdown(PLAN_PLACEHOLDER)
            with gr.Accordion("Plan as JSON", open=False):
                plan_json = gr.JSON(show_label=False)
            with gr.Accordion("Edit the plan and run it", open=False):
                plan_edit = gr.Code(language="json", show_label=False, interactive=True, lines=12)
                run_plan = gr.Button("Run this plan", size="sm")
    events = gr.Dataframe(
        headers=list(EVENT_COLUMNS), datatype=list(EVENT_DATATYPES), label=TABLE_LABEL,
        column_widths=list(EVENT_COLUMN_WIDTHS), interactive=False, wrap=True, max_height=560,
        show_search="search", buttons=["copy", "fullscreen"],
    )
    return _View(chat, question, as_of, ask, examples, plan, plan_json, plan_edit, run_plan, events)


def _wire(app: gr.Blocks, view: _View, handlers: Handlers) -> None:
    common: dict[str, Any] = {
        "outputs": view.outputs(), "concurrency_id": CONCURRENCY_ID, "concurrency_limit": 1,
        "show_progress_on": [view.chat],
    }
    asked = [view.question, view.chat, view.as_of, view.plan_json]
    view.question.submit(handlers.ask, inputs=asked, **common)
    view.ask.click(handlers.ask, inputs=asked, **common)
    for button in view.examples:
        button.click(handlers.ask, inputs=[button, view.chat, view.as_of, view.plan_json], **common)
    view.plan_json.change(plan_text, inputs=view.plan_json, outputs=view.plan_edit)
    view.run_plan.click(handlers.run_plan, inputs=[view.plan_edit, view.chat], **common)
    app.load(
        handlers.load, inputs=None, outputs=[*view.outputs(), view.as_of],
        concurrency_id=CONCURRENCY_ID, concurrency_limit=1, show_progress_on=[view.chat],
    )
