"""Running the bot: Socket Mode (no public URL) or HTTP (Slack posts to /slack/events), tokens checked first."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Literal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.error import BoltError

from assistant.api import RiskAssistant
from assistant.config import Settings
from assistant.errors import ConfigError, redact
from assistant.slack.app import SLACK_API_URL, build_app
from assistant.slack.bot import SlackBot

if TYPE_CHECKING:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

SlackMode = Literal["socket", "http"]
EVENTS_PATH = "/slack/events"
_NEEDED: dict[SlackMode, tuple[tuple[str, str], ...]] = {
    "socket": (("slack_bot_token", "SLACK_BOT_TOKEN (the bot token, xoxb-…: OAuth & Permissions)"),
               ("slack_app_token", "SLACK_APP_TOKEN (an app-level token, xapp-…, with connections:write: "
                                   "Basic Information → App-Level Tokens)")),
    "http": (("slack_bot_token", "SLACK_BOT_TOKEN (the bot token, xoxb-…: OAuth & Permissions)"),
             ("slack_signing_secret", "SLACK_SIGNING_SECRET (Basic Information → App Credentials)")),
}


@dataclass(frozen=True)
class SlackTokens:
    """The secrets one mode needs, read out of Settings only here."""

    bot_token: str
    app_token: str
    signing_secret: str

    @property
    def values(self) -> tuple[str, ...]:
        """Every secret, to keep out of replies and logs."""
        return tuple(v for v in (self.bot_token, self.app_token, self.signing_secret) if v)


def require_tokens(settings: Settings, mode: SlackMode) -> SlackTokens:
    """The tokens the mode needs, or a ConfigError naming each missing setting and where Slack shows it."""
    missing = [label for name, label in _NEEDED[mode] if getattr(settings, name) is None]
    if missing:
        raise ConfigError(f"{'; '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set: "
                          f"`risk-assistant slack --mode {mode}` needs {'it' if len(missing) == 1 else 'them'} "
                          "in the environment or .env")

    def secret(name: str) -> str:
        value = getattr(settings, name)
        return "" if value is None else str(value.get_secret_value())

    return SlackTokens(secret("slack_bot_token"), secret("slack_app_token"), secret("slack_signing_secret"))


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        logging.getLogger("assistant.slack.http").debug(format, *args)


def http_server(app: App, host: str, port: int) -> WSGIServer:
    """A threaded WSGI server for the app at /slack/events (port 0: any free port)."""
    return make_server(host, port, SlackRequestHandler(app, path=EVENTS_PATH),
                       server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)


def serve_http(app: App, host: str, port: int) -> None:
    """Serve Slack's HTTP requests until interrupted."""
    with http_server(app, host, port) as server:
        server.serve_forever()


def socket_handler(app: App, app_token: str) -> SocketModeHandler:
    """Bolt's Socket Mode handler for the app: apps.connections.open goes through the app's own WebClient."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    return SocketModeHandler(app, app_token)


def serve_socket(app: App, app_token: str) -> None:
    """Connect to Slack over Socket Mode and serve until interrupted."""
    socket_handler(app, app_token).start()  # type: ignore[no-untyped-call]


def run_bot(assistant: RiskAssistant, tokens: SlackTokens, mode: SlackMode, *, host: str, port: int,
            api_url: str = SLACK_API_URL) -> None:
    """Build the bot over an open assistant and serve in the given mode until interrupted."""
    secrets = (*tokens.values, *assistant.settings.secret_values())  # the database and LLM keys too
    bot = SlackBot(assistant, ui_base_url=assistant.settings.ui_base_url, secrets=secrets)
    try:
        app = build_app(bot, token=tokens.bot_token, signing_secret=tokens.signing_secret, api_url=api_url)
    except BoltError as error:  # auth.test refused the token: say which setting, never its value
        reason = redact(str(error), tokens.values)
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN ({reason}); copy the Bot User OAuth Token (xoxb-…) "
                          "from OAuth & Permissions") from None
    except OSError as error:  # no route to Slack (offline, a proxy, DNS): urllib's URLError is an OSError
        reason = redact(str(getattr(error, "reason", error)), tokens.values)
        raise ConfigError(f"cannot reach Slack at {api_url} ({reason}); check the network, or HTTPS_PROXY if "
                          "this machine needs a proxy") from None
    if mode == "socket":
        serve_socket(app, tokens.app_token)
    else:
        serve_http(app, host, port)
