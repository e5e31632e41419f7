"""The web UI keeps a bounded number of browser sessions (RISK_UI_MAX_SESSIONS), over its real HTTP API.

Gradio keeps every session's state (its chat, its last plan and a copy of the page's components) long after the
tab is gone, up to 10,000 sessions; the UI bounds it. A session forgotten under the bound starts a new
conversation: its follow-up no longer refines the plan it had.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from gradio_client import Client  # type: ignore[import-untyped]

from assistant.api import RiskAssistant
from assistant.ui.app import build_app, launch

from .conftest import AS_OF

KEPT = 2
PLAN_JSON = 15  # the plan's JSON among /ask's outputs (assistant/ui/app.py wires them)
FIRST = "fraud alerts in 2025"
FOLLOW_UP = "only high severity"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def url(demo_assistant: RiskAssistant) -> Iterator[str]:
    app = build_app(demo_assistant)
    port = free_port()
    launch(app, host="127.0.0.1", port=port, block=False, max_sessions=KEPT)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def ask(client: Any, question: str) -> dict[str, Any]:
    """Ask in this client's session; the plan the page shows afterwards."""
    outputs = client.predict(question, AS_OF.isoformat(), api_name="/ask")
    plan: dict[str, Any] = json.loads(outputs[PLAN_JSON])
    return plan


def fields(plan: dict[str, Any]) -> set[str]:
    return {f["field"] for f in plan["filters"]}


def test_sessions_beyond_the_bound_are_forgotten_oldest_first(url: str) -> None:
    clients = [Client(url, download_files=False, verbose=False, analytics_enabled=False) for _ in range(KEPT + 1)]
    try:
        first = ask(clients[0], FIRST)
        assert {"category", "occurred_at"} <= fields(first)  # the conversation the follow-up would refine
        for client in clients[1:]:  # two newer sessions: the first is now the least recently used, beyond 2
            ask(client, FIRST)
        newest = ask(clients[-1], FOLLOW_UP)
        assert {"category", "occurred_at", "severity"} <= fields(newest)  # a kept session refines its plan
        forgotten = ask(clients[0], FOLLOW_UP)
        assert "severity" in fields(forgotten)
        assert "category" not in fields(forgotten)  # a new conversation: the fraud filter is gone
    finally:
        for client in clients:
            client.close()
