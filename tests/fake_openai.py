"""A scripted OpenAI-compatible chat endpoint on 127.0.0.1, for driving a real ChatOpenAI through faults:
it answers every request as its current `fault` says and counts the requests it was sent."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

Fault = Literal["valid", "hang", "http_500", "garbage", "bad_tool_args", "empty"]
FAULTS: tuple[Fault, ...] = ("hang", "http_500", "garbage", "bad_tool_args", "empty")
SUMMARY = "The matching events are listed below, most relevant first."


class FakeOpenAI:
    """The endpoint: `base_url` for OPENAI_BASE_URL; set `fault` before each request."""

    def __init__(self, hang_s: float = 10.0) -> None:
        self.fault: Fault = "valid"
        self.requests: list[dict[str, Any]] = []
        self.hang_s = hang_s  # how long a hung request holds its connection (closing releases it early)
        self.released = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The OpenAI-style base URL (…/v1)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up on a hung request (its timeout) resets the connection: expected here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            fake.requests.append(body)
            reply(self, fake, body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def reply(handler: BaseHTTPRequestHandler, fake: FakeOpenAI, body: dict[str, Any]) -> None:
    """Answer one chat completion request as the current fault says."""
    fault, stream, tools = fake.fault, bool(body.get("stream")), bool(body.get("tools"))
    if fault == "hang":
        fake.released.wait(fake.hang_s)
        return
    if fault == "http_500":
        _send(handler, 500, "application/json", json.dumps(
            {"error": {"message": "The server had an error processing your request.", "type": "server_error"}}))
        return
    if fault == "garbage":
        kind = "text/event-stream" if stream else "application/json"
        _send(handler, 200, kind, "data: <html><body>502 Bad Gateway</body></html>\n\n" if stream
              else "<html><body>502 Bad Gateway</body></html>")
        return
    message = _message(fault, tools)
    if stream:
        _send(handler, 200, "text/event-stream", _sse(message))
    else:
        _send(handler, 200, "application/json", json.dumps(_completion({**message, "role": "assistant"})))


def _message(fault: Fault, tools: bool) -> dict[str, Any]:
    """The assistant message: a Draft tool call when tools were offered, else text."""
    if fault == "empty":
        return {"content": ""}
    if fault == "bad_tool_args":  # a call whatever was asked, with arguments of the wrong types and names
        return {"content": None, "tool_calls": [_call("Draft", {"summary": ["not", "text"], "patterns": "none"})]}
    if tools:
        return {"content": None, "tool_calls": [_call("Draft", {"summary": SUMMARY, "patterns": [], "caveats": []})]}
    return {"content": SUMMARY}


def _call(name: str, args: dict[str, Any]) -> dict[str, Any]:
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}


def _completion(message: dict[str, Any]) -> dict[str, Any]:
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": "fake",
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def _sse(message: dict[str, Any]) -> str:
    """The message streamed as chunks: tool-call arguments in 8-character pieces, or the text whole."""
    deltas: list[dict[str, Any]] = [{"role": "assistant", "content": message.get("content") or ""}]
    for call in message.get("tool_calls", []):
        args = call["function"]["arguments"]
        deltas.append({"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                                       "function": {"name": call["function"]["name"], "arguments": ""}}]})
        deltas += [{"tool_calls": [{"index": 0, "function": {"arguments": args[i:i + 8]}}]}
                   for i in range(0, len(args), 8)]
    finish = "tool_calls" if message.get("tool_calls") else "stop"
    chunks = [_chunk(d, None) for d in deltas] + [_chunk({}, finish)]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


def _chunk(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": "fake",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def _send(handler: BaseHTTPRequestHandler, status: int, kind: str, text: str) -> None:
    data = text.encode()
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)
