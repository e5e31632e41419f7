"""The chat UI end to end in a real browser (Debian's chromium driven by Playwright) over the demo data.

Skipped when chromium is missing, unless RISK_REQUIRE_BROWSER=1 (CI sets it: then a missing browser fails).
Screenshots of each step are written to /tmp/ui_shots/.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from assistant.api import RiskAssistant
from assistant.models import EventHit
from assistant.ui.app import build_app, launch
from assistant.ui.layout import evidence_table
from assistant.ui.table import evidence_html

from .conftest import AS_OF

# A hung page (the browser waits with no end of its own) fails its test after 5 minutes, not the whole run.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

SHOTS = Path("/tmp/ui_shots")
QUESTION = "Q4 2025 card-not-present fraud patterns"
FINAL = "· answer "  # the provenance footer only the final, checked answer has
TIMEOUT_MS = 120_000  # generous: other test runs may share the CPUs
# Records, at every change of the chat or the chips, what the page shows: the test reads the order of stages.
TIMELINE_JS = """() => {
  window.timeline = [];
  const snap = () => {
    const bots = [...document.querySelectorAll('#chat [data-testid="bot"]')];
    const last = bots.length ? bots[bots.length - 1].innerText : '';
    window.timeline.push({chips: document.querySelectorAll('#plan-chips .token').length,
                          rows: document.querySelectorAll('#evidence tbody tr').length,
                          final: last.includes('· answer '), text: last.slice(0, 200)});
  };
  new MutationObserver(snap).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def chromium_path() -> str | None:
    return shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        if os.environ.get("RISK_REQUIRE_BROWSER") == "1":
            pytest.fail("chromium is not installed and RISK_REQUIRE_BROWSER=1")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def url(demo_assistant: RiskAssistant) -> Iterator[str]:
    app = build_app(demo_assistant)
    port = free_port()
    launch(app, host="127.0.0.1", port=port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.fixture
def page(browser: Any, url: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    yield tab
    context.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def open_page(page: Any, url: str, query: str = "") -> None:
    page.goto(url + query)
    page.wait_for_selector("#status strong")  # the header is filled by the page's load event


def ask(page: Any, question: str, answers_before: int = 0) -> None:
    page.fill("#as-of textarea, #as-of input", AS_OF.isoformat())
    page.fill("#question textarea", question)
    page.click("#ask")
    wait_for_answers(page, answers_before + 1)


def wait_for_answers(page: Any, count: int) -> None:
    try:
        page.wait_for_function(
            """([n, mark]) => [...document.querySelectorAll('#chat [data-testid="bot"]')]
                 .filter(m => m.innerText.includes(mark)).length >= n""", arg=[count, FINAL])
    except Exception:
        shot(page, f"failed_waiting_for_answer_{count}")  # what the page showed instead
        raise


def last_reply(page: Any) -> str:
    return str(page.locator('#chat [data-testid="bot"]').last.inner_text())


def chips(page: Any) -> list[str]:
    return [str(t) for t in page.locator("#plan-chips .token span").all_inner_texts()]


def table_ids(page: Any) -> list[int]:
    page.wait_for_selector("#evidence tbody tr")  # the table is patched just after the chat, not with it
    return [int(text) for text in page.locator("#evidence tbody tr td:first-child").all_inner_texts()]


def table_column(page: Any, name: str) -> list[float | None]:
    """A number column's values in the order shown (None where blank), read from the cells' sort keys."""
    index = page.locator("#evidence thead th").all_inner_texts().index(name)
    keys = page.locator(f"#evidence tbody tr td:nth-child({index + 1})").evaluate_all(
        "cells => cells.map(c => c.dataset.sort)")
    return [float(key) if key else None for key in keys]


def wait_for_chart_total(page: Any, total: int) -> None:
    """Wait until the chart's bars add up to a total (Vega labels each bar "month: …; events: N; category: …")."""
    page.wait_for_function("""n => [...document.querySelectorAll('#chart .mark-rect path')]
        .map(b => Number((b.getAttribute('aria-label') || '').split('events: ')[1]?.split(';')[0] || 0))
        .reduce((a, b) => a + b, 0) === n""", arg=total)


def downloaded(page: Any, selector: str) -> str:
    """The file a download button serves. The browser starts the download; its content is then fetched from
    the same URL with a timeout (waiting for the browser to finish writing it has none, and once hung in CI)."""
    with page.expect_download() as started:
        page.click(selector)
    download = started.value
    response = page.request.get(download.url, timeout=TIMEOUT_MS)
    download.cancel()
    assert response.ok, (download.url, response.status)
    return str(response.text())


def latest_matched(assistant: RiskAssistant) -> int:
    return int(assistant.db.execute("SELECT matched FROM answers ORDER BY asked_at DESC LIMIT 1")[0][0])


def latest_answer(assistant: RiskAssistant) -> tuple[str, dict[str, Any]]:
    rows = assistant.db.execute("SELECT id::text, plan FROM answers ORDER BY asked_at DESC LIMIT 1")
    return rows[0][0], rows[0][1]


def listed_ids(assistant: RiskAssistant, answer_id: str) -> tuple[list[int], list[int]]:
    """The recorded answer's k best-ranked events and its cited ones."""
    row = assistant.db.execute("SELECT evidence_ids, cited_ids, (plan->>'k')::int FROM answers WHERE id = %s",
                               (answer_id,))[0]
    return list(row[0][: row[2]]), list(row[1])


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_first_page_has_no_empty_components_and_examples_from_the_data(page: Any, url: str) -> None:
    open_page(page, url)
    shot(page, "01_start")
    examples = page.locator("#examples button").all_inner_texts()
    assert examples and all(text.strip() for text in examples)
    assert any("Q3 2026" in text for text in examples)  # the latest quarter of the demo data
    assert page.locator("#evidence").is_hidden() and not page.locator("#evidence tr").count()  # hidden, not empty
    assert page.locator("#chart").count() == 0
    assert "appear here as chips" in page.inner_text("#chips-hint")
    page.locator("#examples button").first.click()
    wait_for_answers(page, 1)
    assert "events match" in last_reply(page) and table_ids(page)


def test_an_answer_streams_then_a_chip_removed_reruns_and_feedback_is_stored(
        page: Any, url: str, demo_assistant: RiskAssistant) -> None:
    open_page(page, url)
    page.evaluate(TIMELINE_JS)
    ask(page, QUESTION)
    shot(page, "02_answer")
    timeline = page.evaluate("window.timeline")
    # Streaming: the chips and then the table were on the page while the reply was still a draft.
    assert any(s["chips"] and not s["final"] for s in timeline), timeline[-3:]
    assert any(s["rows"] and not s["final"] for s in timeline)
    assert chips(page) == ["date 2025-10-01 → 2025-12-31", "category = fraud_alert", "subcategory = card_not_present"]
    answer_id, plan = latest_answer(demo_assistant)
    assert answer_id[:8] in last_reply(page)
    listed, cited = listed_ids(demo_assistant, answer_id)
    shown = table_ids(page)
    # The listed events are the k best-ranked and every cited one, cited first.
    assert set(shown) == set(listed) | set(cited) and cited and set(shown[: len(set(cited))]) == set(cited)
    wait_for_chart_total(page, latest_matched(demo_assistant))  # every matching event, not only the listed

    page.locator('#plan-chips .token:has-text("subcategory = card_not_present") .token-remove').click()
    wait_for_answers(page, 2)
    shot(page, "03_chip_removed")
    rerun_id, rerun = latest_answer(demo_assistant)
    assert rerun_id != answer_id
    assert rerun["filters"] == [f for f in plan["filters"] if f["field"] != "subcategory"]
    assert chips(page) == ["date 2025-10-01 → 2025-12-31", "category = fraud_alert"]
    assert rerun_id[:8] in last_reply(page)
    wait_for_chart_total(page, latest_matched(demo_assistant))  # the chart is redrawn for the re-run
    assert f"All {latest_matched(demo_assistant):,} matching events" in page.inner_text("#chart-caption")

    page.fill("#feedback-comment textarea", "the merchant burst is the story")
    page.locator('#chat button[aria-label="Like"]').last.click()
    page.wait_for_selector('#feedback-status:has-text("recorded")')
    shot(page, "04_feedback")
    rows = demo_assistant.db.execute(
        "SELECT rating, comment, source FROM feedback WHERE answer_id = %s ORDER BY id", (rerun_id,))
    assert rows == [("up", "the merchant burst is the story", "ui")]


def test_the_evidence_table_exports_its_rows_sorts_by_a_header_and_opens_a_row(
        page: Any, url: str, demo_assistant: RiskAssistant) -> None:
    open_page(page, url)
    ask(page, "high severity AML alerts in 2026")
    shown = table_ids(page)
    rows = list(csv.DictReader(io.StringIO(downloaded(page, "#download-evidence-csv"))))
    assert [int(r["id"]) for r in rows] == shown
    assert {r["category"] for r in rows} == {"aml_alert"} and {r["severity"] for r in rows} == {"high"}
    report = downloaded(page, "#download-answer-md")
    assert report.startswith("# high severity AML alerts in 2026")
    assert all(f"| {event_id} |" in report for event_id in shown)

    page.click('#evidence th:text-is("amount")')
    amounts = [a for a in table_column(page, "amount") if a is not None]
    assert len(amounts) > 2 and amounts == sorted(amounts)  # as numbers: "52.08" after "1,140.81" as text
    assert table_column(page, "amount")[: len(amounts)] == amounts  # blank amounts last
    page.click('#evidence th:text-is("score")')
    page.click('#evidence th:text-is("score")')
    scores = table_column(page, "score")
    assert scores == sorted(scores, reverse=True) and sorted(table_ids(page)) == sorted(shown)  # same rows
    shot(page, "05_sorted")

    target = table_ids(page)[3]
    page.locator("#evidence tbody tr").nth(3).click()
    page.wait_for_selector(f'#event-detail:has-text("#{target} ·")')
    assert page.get_by_role("tab", name="Event").get_attribute("aria-selected") == "true"
    assert page.input_value("#event-id input") == str(target)


def test_event_text_in_the_table_is_shown_as_text_never_as_markup(browser: Any) -> None:
    """A hostile title reaches the page through the table's update (patched into the live page), not a test DB."""
    hostile = "<img src=x onerror=alert(1)> [link](http://evil)"
    hits = [EventHit(id=7, score=0.5, fields={"title": hostile, "entity_name": "<b>x</b>", "amount": "12"})]
    with gr.Blocks() as app:
        table = evidence_table()
        first = gr.Button("plain", elem_id="plain")
        second = gr.Button("hostile", elem_id="hostile")
        first.click(lambda: gr.update(value=evidence_html([hits[0].model_copy(update={"fields": {}})], set(), "one"),
                                      visible=True), outputs=table)
        second.click(lambda: gr.update(value=evidence_html(hits, {7}, hostile), visible=True), outputs=table)
    port = free_port()
    launch(app, host="127.0.0.1", port=port, block=False)
    tab = browser.new_context().new_page()
    alerts: list[str] = []
    tab.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    try:
        tab.set_default_timeout(TIMEOUT_MS)
        tab.goto(f"http://127.0.0.1:{port}/")
        tab.click("#plain")
        tab.wait_for_selector('#evidence tbody tr[data-id="7"]')
        tab.click("#hostile")
        tab.wait_for_selector("#evidence tr.cited")
        titles = tab.locator("#evidence tbody td:last-child").all_inner_texts()
        assert titles == [hostile] and hostile in tab.inner_text("#evidence .evidence-label")
        assert "<b>x</b>" in tab.inner_text("#evidence tbody")
        assert tab.locator("#evidence img, #evidence a, #evidence b").count() == 0
        tab.wait_for_timeout(500)  # an injected image would have failed to load, and alerted, by now
        assert alerts == []
    finally:
        tab.context.close()
        app.close()


def test_follow_ups_refine_the_plan_of_their_own_session(page: Any, browser: Any, url: str,
                                                        demo_assistant: RiskAssistant) -> None:
    other = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    other.set_default_timeout(TIMEOUT_MS)
    open_page(page, url)
    open_page(other, url)
    ask(page, QUESTION)
    ask(other, "high severity AML alerts in 2026")
    ask(page, "only high severity", answers_before=1)
    _, plan = latest_answer(demo_assistant)
    fields = {(f["field"], f["op"], json.dumps(f["value"])) for f in plan["filters"]}
    assert ("category", "eq", '"fraud_alert"') in fields and ("severity", "eq", '"high"') in fields
    assert "severity = high" in chips(page) and "category = fraud_alert" in chips(page)
    assert "category = aml_alert" in chips(other)  # the other session's plan is its own
    shot(page, "06_follow_up")
    other.context.close()


def test_a_deep_link_opens_an_event_and_finds_similar_ones(page: Any, url: str,
                                                          demo_assistant: RiskAssistant) -> None:
    event_id, text = demo_assistant.db.execute(
        "SELECT id, text FROM risk_events WHERE category = 'aml_alert' ORDER BY id LIMIT 1")[0]
    open_page(page, url, f"?event={event_id}")
    page.wait_for_selector(f'#event-detail:has-text("#{event_id}")')
    assert text[:40] in page.inner_text("#event-detail")
    shot(page, "07_event_detail")
    page.click("#find-similar")
    wait_for_answers(page, 1)
    _, plan = latest_answer(demo_assistant)
    assert plan["like"] == {"kind": "event", "value": str(event_id)}
    assert event_id not in table_ids(page) and page.locator('#evidence th:text-is("shares with target")').count()
    shot(page, "08_similar")


def test_errors_are_messages_in_the_chat(page: Any, url: str) -> None:
    open_page(page, url)
    page.fill("#as-of textarea, #as-of input", "last tuesday")
    page.fill("#question textarea", QUESTION)
    page.click("#ask")
    page.wait_for_selector('#chat [data-testid="bot"]:has-text("Could not answer")')
    assert "is not a date; use YYYY-MM-DD" in last_reply(page)
    ask(page, QUESTION)
    page.get_by_role("tab", name="Plan").click()
    page.get_by_text("Edit the plan as JSON and run it").click()
    code = page.locator("#panels .cm-content")
    code.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(json.dumps({"question": "x", "query": "x", "as_of": "2026-01-01",
                                          "filters": [{"field": "password", "op": "eq", "value": 1}]}))
    page.click("#run-plan")
    page.wait_for_selector('#chat [data-testid="bot"]:has-text("unknown filter field")')
    reply = last_reply(page)
    assert "Traceback" not in reply and "Could not answer" in reply
    shot(page, "09_error")


def test_the_app_is_a_gradio_blocks_app(demo_assistant: RiskAssistant) -> None:
    assert isinstance(build_app(demo_assistant), gr.Blocks)
