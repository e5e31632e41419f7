"""The Gradio web UI: a chat over RiskAssistant.ask_stream that shows each stage as it comes, with the plan as
removable filter chips, the evidence table, a chart over time, themes, unusual events, exports and feedback.

Deep links: `/?q=<question>&as_of=YYYY-MM-DD` asks the question as the page opens; `/?event=<id>` opens one
event in full (the Slack bot links cited ids there).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.errors import ConfigError
from assistant.ui.handlers import Handlers
from assistant.ui.layout import CSS, View, build_view

if TYPE_CHECKING:
    from assistant.api import RiskAssistant


def build_app(assistant: RiskAssistant) -> gr.Blocks:
    """Build the Risk Assistant web UI over an open assistant; launch() or serve() runs it."""
    app = gr.Blocks(title="Risk Assistant", analytics_enabled=False, fill_width=True)
    with app:
        view = build_view()
        handlers = Handlers(assistant, view)
        _wire(app, view, handlers)
    # Questions from several sessions run at once: each borrows a pooled connection only while a query runs.
    app.queue(default_concurrency_limit=assistant.settings.pool_size)
    return app


def launch(app: gr.Blocks, *, host: str, port: int, block: bool = True,
           logins: list[tuple[str, str]] | None = None, max_sessions: int = 200) -> None:
    """Start the server: no share link, no analytics, errors shown as messages (never tracebacks); with
    `logins`, a sign-in page (each request then names its login, mapped to an analyst); at most
    `max_sessions` browser sessions kept in memory, the least recently used forgotten first."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    app.launch(server_name=host, server_port=port, share=False, show_error=False, prevent_thread_lock=not block,
               footer_links=["api", "settings"], css=CSS, theme=gr.themes.Soft(primary_hue="indigo"), quiet=True,
               auth=logins or None, auth_message="Sign in as an analyst of this Risk Assistant.",
               state_session_capacity=max_sessions)


def serve(assistant: RiskAssistant) -> None:
    """Serve the web UI on settings.ui_host:ui_port until interrupted."""
    logins = parse_logins(assistant.settings.ui_logins.get_secret_value()) if assistant.settings.ui_logins else None
    settings = assistant.settings
    launch(build_app(assistant), host=settings.ui_host, port=settings.ui_port, logins=logins,
           max_sessions=settings.ui_max_sessions)


def parse_logins(text: str) -> list[tuple[str, str]]:
    """RISK_UI_LOGINS ("login:password,login2:password2") as pairs; ConfigError naming the entry, never the
    password, when one is malformed."""
    pairs = []
    for n, entry in enumerate((e.strip() for e in text.split(",") if e.strip()), start=1):
        login, _, password = entry.partition(":")
        if not login.strip() or not password:
            raise ConfigError(f"RISK_UI_LOGINS entry {n} is not login:password")
        pairs.append((login.strip(), password))
    return pairs


def _wire(app: gr.Blocks, view: View, handlers: Handlers) -> None:
    streamed: dict[str, Any] = {"outputs": view.answer_outputs(), "show_progress": "hidden"}
    asked = [view.question, view.as_of, view.session]
    view.question.submit(handlers.ask, inputs=asked, **streamed)
    view.ask.click(handlers.ask, inputs=asked, **streamed)
    for button in view.examples:
        button.click(handlers.ask, inputs=[button, view.as_of, view.session], **streamed)
    view.chips.input(handlers.remove_chip, inputs=[view.chips, view.session], **streamed)
    view.apply_dates.click(handlers.apply_dates, inputs=[view.date_from, view.date_to, view.session], **streamed)
    view.apply_values.click(handlers.apply_values, inputs=[view.field, view.values, view.session], **streamed)
    view.run_plan.click(handlers.run_json, inputs=[view.plan_code, view.session], **streamed)
    view.similar.click(handlers.find_similar, inputs=[view.event_id, view.session], **streamed)
    view.field.change(handlers.field_changed, inputs=[view.field, view.session], outputs=[view.values])
    detail = [view.event, view.event_id, view.similar, view.tabs]
    view.open_event.click(handlers.open_event, inputs=[view.event_id], outputs=detail)
    view.event_id.submit(handlers.open_event, inputs=[view.event_id], outputs=detail)
    view.table.select(handlers.select_row, inputs=None, outputs=detail)
    view.chat.like(handlers.feedback, inputs=[view.comment, view.session],
                   outputs=[view.feedback_status, view.comment])
    loaded = [view.status, view.field, *view.examples, *detail]
    app.load(handlers.load, inputs=None, outputs=loaded).then(
        handlers.ask_deep_link, inputs=[view.session], **streamed)
