"""The page's components: the chat on the left, the plan's chips and the panels on the right, evidence below."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from assistant.ui.examples import EXAMPLES_MAX
from assistant.ui.session import Session
from assistant.ui.table import TABLE_CSS, TABLE_JS

CHAT_PLACEHOLDER = (
    "### Ask about risk events\n"
    "Fraud alerts, AML and compliance flags, chargebacks, complaints, credit-score changes: ask in plain words, "
    "then narrow with follow-ups (*only high severity*, *what about Q2?*) or by editing the filters on the right."
)
CHIPS_HINT = "*The filters of your question appear here as chips: remove one (×) to re-run without it.*"
CHART_HINT = "*A chart of the matching events over time appears with the first answer.*"
THEMES_HINT = "*Themes among the evidence appear with the first answer.*"
ANOMALIES_HINT = "*Unusual events among the evidence appear with the first answer.*"
EVENT_HINT = "*Click a row of the evidence table (or open an event by its id) to see it in full.*"
EVIDENCE_HINT = "*The evidence (the events behind the answer) is listed here once you ask.*"
PLAN_HINT = "*Ask a question to see the filters, query text and as-of date that ran.*"
EVENT_TAB = "event"

CSS = """
#plan-chips .remove-all { display: none; }
#plan-chips .token { background: var(--color-accent-soft); border: 1px solid var(--color-accent);
  border-radius: 999px; padding: 2px 10px; font-size: var(--text-sm); }
#plan-chips .token-remove { margin-left: 4px; }
#examples button { white-space: normal; text-align: left; }
#status p { margin: 0; color: var(--body-text-color-subdued); }
""" + TABLE_CSS


@dataclass
class View:
    """The components that event handlers read and write."""

    session: gr.State
    status: gr.Markdown
    chat: gr.Chatbot
    question: gr.Textbox
    as_of: gr.Textbox
    ask: gr.Button
    examples: list[gr.Button]
    comment: gr.Textbox
    feedback_status: gr.Markdown
    chips_hint: gr.Markdown
    chips: gr.Dropdown
    editor: gr.Accordion
    date_from: gr.DateTime
    date_to: gr.DateTime
    apply_dates: gr.Button
    field: gr.Dropdown
    values: gr.Dropdown
    apply_values: gr.Button
    tabs: gr.Tabs
    chart_hint: gr.Markdown
    chart_box: gr.Column
    chart_caption: gr.Markdown
    chart: gr.BarPlot
    themes: gr.Markdown
    anomalies: gr.Markdown
    event_id: gr.Number
    open_event: gr.Button
    event: gr.Markdown
    similar: gr.Button
    plan: gr.Markdown
    plan_code: gr.Code
    run_plan: gr.Button
    evidence_hint: gr.Markdown
    table: gr.HTML
    downloads: list[gr.DownloadButton]

    def answer_outputs(self) -> list[Any]:
        """Every component an answer's stream may update."""
        return [self.session, self.chat, self.question, self.feedback_status, self.chips_hint, self.chips,
                self.editor, self.date_from, self.date_to, self.field, self.values, self.chart_hint,
                self.chart_box, self.chart_caption, self.chart,
                self.themes, self.anomalies, self.plan, self.plan_code, self.evidence_hint, self.table,
                *self.downloads]


def build_view() -> View:
    """Lay out the page's components (inside a gr.Blocks context)."""
    session = gr.State(Session())
    with gr.Row(equal_height=False):
        gr.Markdown("# Risk Assistant", elem_id="title")
        status = gr.Markdown(elem_id="status")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=480):
            chat_parts = _chat_column()
        with gr.Column(scale=2, min_width=380):
            plan_parts = _plan_column()
    evidence_parts = _evidence_section()
    return View(session, status, *chat_parts, *plan_parts, *evidence_parts)


def _chat_column() -> tuple[Any, ...]:
    chat = gr.Chatbot(label="Conversation", elem_id="chat", height=560, layout="bubble",
                      placeholder=CHAT_PLACEHOLDER, buttons=["copy", "copy_all"], feedback_options=("Like", "Dislike"))
    with gr.Row():
        question = gr.Textbox(placeholder="Ask about risk events, e.g. fraud patterns last quarter",
                              show_label=False, scale=6, autofocus=True, elem_id="question")
        as_of = gr.Textbox(placeholder="as of YYYY-MM-DD", show_label=False, scale=3, min_width=190, elem_id="as-of")
        ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
    with gr.Row(elem_id="examples"):
        examples = [gr.Button("", size="sm", variant="secondary", visible=False, elem_classes=["example"])
                    for _ in range(EXAMPLES_MAX)]
    with gr.Row(equal_height=True):
        comment = gr.Textbox(placeholder="Optional comment, sent with your thumbs up / down on an answer",
                             show_label=False, scale=4, elem_id="feedback-comment", max_length=2000)
        feedback_status = gr.Markdown(elem_id="feedback-status")
    return chat, question, as_of, ask, examples, comment, feedback_status


def _plan_column() -> tuple[Any, ...]:
    gr.Markdown("### Filters")
    chips_hint = gr.Markdown(CHIPS_HINT, elem_id="chips-hint")
    chips = gr.Dropdown(choices=[], value=[], multiselect=True, show_label=False, visible=False,
                        elem_id="plan-chips", allow_custom_value=False, interactive=True)
    with gr.Accordion("Change the dates or a value", open=False, visible=False, elem_id="plan-editor") as editor:
        with gr.Row():
            date_from = gr.DateTime(include_time=False, type="string", label="From", elem_id="date-from")
            date_to = gr.DateTime(include_time=False, type="string", label="To (included)", elem_id="date-to")
        apply_dates = gr.Button("Re-run with these dates", size="sm", elem_id="apply-dates")
        with gr.Row():
            field = gr.Dropdown(choices=[], label="Field", elem_id="edit-field", interactive=True)
            values = gr.Dropdown(choices=[], multiselect=True, label="Values (stored)", elem_id="edit-values",
                                 interactive=True)
        apply_values = gr.Button("Re-run with these values", size="sm", elem_id="apply-values")
    # render_children: every tab's components stay in the page and a tab switch only shows or hides them;
    # Gradio 6 otherwise builds a tab's chart or table when it is first shown, which has hung pages.
    with gr.Tabs(elem_id="panels") as tabs:
        with gr.Tab("Chart", id="chart", render_children=True):
            chart_hint = gr.Markdown(CHART_HINT)
            # The box is hidden until the first answer; the plot inside only ever gets new data (a plot
            # update that also sets its own visibility or title keeps drawing its old data).
            with gr.Column(visible=False) as chart_box:
                chart_caption = gr.Markdown(elem_id="chart-caption")
                chart = gr.BarPlot(x="month", y="events", color="category", elem_id="chart", height=300,
                                   x_label_angle=-45, show_label=False)
        with gr.Tab("Themes", id="themes", render_children=True):
            themes = gr.Markdown(THEMES_HINT, elem_id="themes")
        with gr.Tab("Unusual", id="anomalies", render_children=True):
            anomalies = gr.Markdown(ANOMALIES_HINT, elem_id="anomalies")
        with gr.Tab("Event", id=EVENT_TAB, render_children=True):
            with gr.Row(equal_height=False):
                event_id = gr.Number(label="Event id", precision=0, minimum=1, scale=3, elem_id="event-id")
                open_event = gr.Button("Open", size="sm", scale=1, min_width=80, elem_id="open-event")
            event = gr.Markdown(EVENT_HINT, elem_id="event-detail")
            similar = gr.Button("Find similar events", size="sm", variant="primary", visible=False,
                                elem_id="find-similar")
        with gr.Tab("Plan", id="plan", render_children=True):
            plan = gr.Markdown(PLAN_HINT, elem_id="plan")
            with gr.Accordion("Edit the plan as JSON and run it", open=False):
                plan_code = gr.Code(language="json", show_label=False, interactive=True, lines=12)
                run_plan = gr.Button("Run this plan", size="sm", elem_id="run-plan")
    return (chips_hint, chips, editor, date_from, date_to, apply_dates, field, values, apply_values, tabs,
            chart_hint, chart_box, chart_caption, chart, themes, anomalies, event_id, open_event, event, similar, plan,
            plan_code, run_plan)


def _evidence_section() -> tuple[Any, ...]:
    gr.Markdown("### Evidence")
    evidence_hint = gr.Markdown(EVIDENCE_HINT, elem_id="evidence-hint")
    table = evidence_table()
    with gr.Row():
        downloads = [
            gr.DownloadButton(label, size="sm", visible=False, elem_id=elem_id)
            for label, elem_id in (("Evidence (CSV)", "download-evidence-csv"),
                                   ("Evidence (Markdown)", "download-evidence-md"),
                                   ("Answer (Markdown)", "download-answer-md"))
        ]
    return evidence_hint, table, downloads


def evidence_table() -> gr.HTML:
    """The evidence table: hidden (not empty) until an answer, then our own escaped HTML (assistant/ui/table.py),
    not gr.Dataframe, whose reactive table has frozen pages while it was updated during a stream."""
    # "hidden", not False: the component is mounted with the page (display: none), so a quick answer never
    # waits for its code to load when it is first shown.
    return gr.HTML(visible="hidden", elem_id="evidence", js_on_load=TABLE_JS, apply_default_css=False)
