"""A fake Socket Mode server on 127.0.0.1, the websocket half of the fake Slack (fake_slack.py's
apps.connections.open hands out its URL): it greets a connection with hello, sends the envelopes a test gives
it, and records the acknowledgements the client sends back, each with the seconds it took."""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

HELLO = {"type": "hello", "num_connections": 1,
         "debug_info": {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
         "connection_info": {"app_id": "A0RISK001"}}


@dataclass(frozen=True)
class Acknowledgement:
    """What the client sent back for one envelope: its payload (an ack's response, if any) and how fast."""

    envelope_id: str
    payload: dict[str, Any] | None
    seconds: float


class FakeSocketMode:
    """One connection at a time, as Slack gives each connection its own URL; `url` for apps.connections.open."""

    def __init__(self) -> None:
        self.acks: dict[str, Acknowledgement] = {}
        self.received: list[dict[str, Any]] = []  # every message the client sent, acks or not
        self.connections = 0
        self._sent: dict[str, float] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._connection: ServerConnection | None = None
        self._open = False
        self._server: Server = serve(self._session, "127.0.0.1", 0)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.socket.getsockname()[:2]
        return f"ws://{host}:{port}/link"

    def send(self, kind: str, payload: dict[str, Any], **fields: Any) -> str:
        """Send an envelope (events_api, slash_commands, interactive) to the connected client; its id."""
        envelope_id = f"fake-envelope-{next(self._ids):04d}"
        with self._lock:
            connection = self._connection
            if connection is None:
                raise AssertionError("no client is connected")
            self._sent[envelope_id] = time.monotonic()
        connection.send(json.dumps({"envelope_id": envelope_id, "payload": payload, "type": kind, **fields}))
        return envelope_id

    def wait_connected(self, timeout: float = 10.0) -> None:
        self._wait(lambda: self._open, timeout, "no client connected")

    def wait_disconnected(self, timeout: float = 10.0) -> None:
        self._wait(lambda: not self._open, timeout, "the client stayed connected")

    def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> Acknowledgement:
        """The envelope's acknowledgement, which Slack wants within 3 seconds of sending it."""
        self._wait(lambda: envelope_id in self.acks, timeout, f"envelope {envelope_id} was not acknowledged")
        return self.acks[envelope_id]

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)

    def _wait(self, done: Any, timeout: float, failure: str) -> None:
        with self._changed:
            if not self._changed.wait_for(done, timeout):
                raise AssertionError(f"{failure} within {timeout} s; acknowledged: {sorted(self.acks)}")

    def _session(self, connection: ServerConnection) -> None:
        connection.send(json.dumps(HELLO))
        with self._changed:
            self._connection, self._open = connection, True
            self.connections += 1
            self._changed.notify_all()
        try:
            for message in connection:
                self._record(json.loads(message))
        except ConnectionClosed:  # the client closes its socket without a close frame
            pass
        finally:
            with self._changed:
                self._connection, self._open = None, False
                self._changed.notify_all()

    def _record(self, message: dict[str, Any]) -> None:
        envelope_id = str(message.get("envelope_id", ""))
        with self._changed:
            self.received.append(message)
            sent = self._sent.get(envelope_id, time.monotonic())
            self.acks[envelope_id] = Acknowledgement(envelope_id, message.get("payload"),
                                                     time.monotonic() - sent)
            self._changed.notify_all()
