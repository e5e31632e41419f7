"""Failures as short replies an analyst can read; the error itself is logged here, never a secret."""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Iterable

from slack_sdk.errors import SlackApiError

from assistant.errors import AssistantError, redact

log = logging.getLogger("assistant.slack")

_SLACK_HINTS = {
    "not_in_channel": "invite me to the channel first (/invite @Risk Assistant)",
    "channel_not_found": "I cannot see that channel; invite me to it first",
    "ratelimited": "Slack is rate-limiting me; try again in a minute",
}


def failure_text(error: BaseException, secrets: Iterable[str] = ()) -> str:
    """Plain text (escape it for mrkdwn) saying what failed; logs the error, with a traceback when unexpected."""
    hidden = [s for s in secrets if s]
    if isinstance(error, AssistantError):
        message = redact(str(error), hidden)
        log.warning("could not answer: %s", message)
        return f"Sorry, I could not answer that: {message}"
    if isinstance(error, SlackApiError):
        code = str(error.response.get("error", "unknown_error"))
        log.warning("Slack refused a call: %s", code)
        hint = _SLACK_HINTS.get(code, "try again in a moment")
        return f"Slack refused my reply ({code}): {hint}."
    reference = uuid.uuid4().hex[:8]
    details = redact("".join(traceback.format_exception(error)), hidden)
    log.error("answering failed (reference %s)\n%s", reference, details)
    return (f"Sorry, something went wrong on my side (reference {reference}); it has been logged. "
            "Try again in a moment, or tell whoever runs the bot.")
