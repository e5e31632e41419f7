"""A fake Slack Web API on 127.0.0.1 (the only Slack fake the tests allow): it records every call (Web API
methods and response_url posts), answers with realistic JSON, enforces Slack's message limits the way Slack
does (an error, never a silent cut), and can answer 429 with Retry-After. Plus signed requests to the bot."""

from __future__ import annotations

import itertools
import json
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from slack_sdk.signature import SignatureVerifier

BOT_USER_ID = "UBOT00001"
TEAM_ID = "T0RISK001"


@dataclass
class Call:
    """One request the fake received: the method (or respond/<name>), its parameters and its answer."""

    method: str
    params: dict[str, Any]
    authorization: str
    status: int = 200
    reply: dict[str, Any] = field(default_factory=dict)


class FakeSlack:
    """The fake server: `api_url` for the WebClient, `response_url(name)` for slash commands and buttons."""

    def __init__(self, token: str, *, app_token: str = "", socket_url: str = "") -> None:
        self.token = token
        self.app_token, self.socket_url = app_token, socket_url  # Socket Mode: see fake_slack_socket.py
        self.calls: list[Call] = []
        self._rate_limits: dict[str, list[int]] = {}
        self._lock = threading.Lock()
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def api_url(self) -> str:
        return self.base + "/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/respond/{name}"

    def rate_limit(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next `times` calls of a method with 429 and Retry-After."""
        self._rate_limits[method] = [retry_after] * times

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def forget(self, done: Callable[[Call], bool]) -> None:
        """Drop the recorded calls `done` picks (a long run's finished threads), keeping the rest."""
        with self._lock:
            self.calls = [c for c in self.calls if not done(c)]

    def wait_for(self, found: Callable[[FakeSlack], bool], timeout: float = 120.0) -> None:
        """Wait until `found(self)` holds (the bot works in background threads)."""
        deadline = time.monotonic() + timeout
        while not found(self):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out; calls so far: {[c.method for c in self.calls]}")
            time.sleep(0.05)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, method: str, params: dict[str, Any], authorization: str) -> Call:
        """What Slack would answer (and record the call)."""
        call = Call(method, params, authorization)
        limits = self._rate_limits.get(method)
        if limits:
            call.status, call.reply = 429, {"ok": False, "error": "ratelimited", "retry_after": limits.pop()}
        elif method.startswith("respond/"):
            call.reply = {"ok": True}
        elif method == "apps.connections.open":
            call.reply = self._open_connection(authorization)
        elif authorization != f"Bearer {self.token}":
            call.reply = {"ok": False, "error": "invalid_auth"}
        else:
            call.reply = self._method(method, params)
        with self._lock:
            self.calls.append(call)
        return call

    def _open_connection(self, authorization: str) -> dict[str, Any]:
        """apps.connections.open: the Socket Mode URL, for the app-level token (xapp-…) only."""
        if self.app_token and authorization == f"Bearer {self.app_token}" and self.socket_url:
            return {"ok": True, "url": self.socket_url}
        if authorization == f"Bearer {self.token}":
            return {"ok": False, "error": "not_allowed_token_type"}
        return {"ok": False, "error": "invalid_auth"}

    def _method(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://risk-team.slack.com/", "team": "Risk Team", "user": "risk-assistant",
                    "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": "BBOT00001", "is_enterprise_install": False}
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            problem = message_problem(params)
            if problem:
                return {"ok": False, "error": problem}
            ts = params.get("ts") or f"1763800000.{next(self._ts):06d}"
            message = {"type": "message", "user": BOT_USER_ID, "bot_id": "BBOT00001", "text": params.get("text", ""),
                       "ts": ts, "blocks": params.get("blocks", [])}
            if params.get("thread_ts"):
                message["thread_ts"] = params["thread_ts"]
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            return {"ok": True, "channel": params["channel"], "ts": ts, "message": message}
        return {"ok": False, "error": "unknown_method"}


def message_problem(params: dict[str, Any]) -> str | None:
    """Slack's refusal of a message, if any: no channel, no content, too long, blocks out of bounds."""
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    if not params.get("channel"):
        return "channel_not_found"
    if not params.get("text") and not blocks:
        return "no_text"
    if len(params.get("text") or "") > 40000:
        return "msg_too_long"
    if len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        texts = [block.get("text") or {}, *block.get("elements", [])] if block["type"] != "actions" else []
        if any(len(t.get("text", "")) > 3000 for t in texts if isinstance(t, dict)):
            return "invalid_blocks"
    return None


def _handler(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            path = urllib.parse.urlparse(self.path).path
            method = path.removeprefix("/api/").lstrip("/")
            call = fake.answer(method, _params(raw, self.headers.get("Content-Type") or ""),
                               self.headers.get("Authorization") or "")
            body = json.dumps(call.reply).encode()
            self.send_response(call.status)
            if call.status == 429:
                self.send_header("Retry-After", str(call.reply["retry_after"]))
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def _params(raw: str, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if content_type.startswith("application/json"):
        return dict(json.loads(raw))
    return {k: v[0] for k, v in urllib.parse.parse_qs(raw).items()}


def signed_post(url: str, body: str, secret: str, *, content_type: str = "application/json",
                headers: dict[str, str] | None = None, timestamp: int | None = None) -> tuple[int, str, float]:
    """POST a request signed the way Slack signs it (v0, HMAC-SHA256); its status, body and seconds taken."""
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    request = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature,
        **(headers or {})})
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode(), time.monotonic() - started
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), time.monotonic() - started


def event_body(event: dict[str, Any], event_id: str) -> str:
    """An Events API delivery (event_callback) as Slack sends it."""
    return json.dumps({"token": "legacy-verification-token", "team_id": TEAM_ID, "api_app_id": "A0RISK001",
                       "event": event, "type": "event_callback", "event_id": event_id, "event_time": 1763800000,
                       "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]})


def form(fields: dict[str, str]) -> str:
    return urllib.parse.urlencode(fields)


def action_body(action_id: str, value: str, *, user: str, channel: str, response_url: str,
                ephemeral: bool = False) -> str:
    """A block_actions interaction (a button click), form-encoded as Slack posts it."""
    payload = {"type": "block_actions", "team": {"id": TEAM_ID}, "user": {"id": user, "team_id": TEAM_ID},
               "api_app_id": "A0RISK001", "token": "legacy-verification-token", "trigger_id": "1.2.3",
               "channel": {"id": channel, "name": "risk"}, "response_url": response_url,
               "container": {"type": "message", "channel_id": channel, "is_ephemeral": ephemeral,
                             "message_ts": "1763800000.000001"},
               "actions": [{"type": "button", "action_id": action_id, "block_id": "answer_actions", "value": value,
                            "action_ts": "1763800001.000001"}]}
    return form({"payload": json.dumps(payload)})
