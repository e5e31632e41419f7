"""Scripted chat models, the only fake the tests allow besides the Slack API: they reply with scripted
messages in turn and record every prompt they are sent."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.exceptions import ModelTimeoutError
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import Field


class TextChat(GenericFakeChatModel):
    """A chat model with no tool calling: replies with the scripted messages in turn, recording each prompt."""

    received: list[list[BaseMessage]] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self.received.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)


class ToolChat(TextChat):
    """A tool-calling chat model: streams a scripted tool call's arguments a few characters at a time."""

    bound: list[dict[str, Any]] = Field(default_factory=list)
    fail_after: int | None = None  # chunks streamed before the connection drops

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ToolChat:
        self.bound.append({"tools": list(tools), **kwargs})
        return self

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        message = self._generate(messages, stop=stop, run_manager=run_manager, **kwargs).generations[0].message
        assert isinstance(message, AIMessage)
        for n, chunk in enumerate(chunks_of(message)):
            if self.fail_after is not None and n == self.fail_after:
                raise RuntimeError("connection reset by peer")
            yield ChatGenerationChunk(message=chunk)


class FailingChat(ToolChat):
    """A provider that is down, in both modes."""

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self.received.append(list(messages))
        raise RuntimeError("boom")


class APITimeoutError(ModelTimeoutError):
    """A provider's timeout, as LangChain's provider packages classify it."""


class TimingOutChat(ToolChat):
    """An endpoint that does not answer in time."""

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self.received.append(list(messages))
        raise APITimeoutError("Request timed out.")


def chunks_of(message: AIMessage) -> Iterator[AIMessageChunk]:
    """A reply as a provider streams it: tool-call arguments in 5-character pieces, or text by words."""
    for call in message.tool_calls:
        args = json.dumps(call["args"])
        for start in range(0, len(args), 5):
            first = start == 0
            yield AIMessageChunk(content="", tool_call_chunks=[{
                "name": call["name"] if first else None, "id": call["id"] if first else None,
                "args": args[start:start + 5], "index": 0}])
    if isinstance(message.content, str) and message.content:
        for token in re.split(r"(\s)", message.content):
            yield AIMessageChunk(content=token)
    elif not message.tool_calls:
        yield AIMessageChunk(content="")  # an empty reply still streams its closing chunk


def tool_reply(args: dict[str, Any]) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": "Draft", "args": args, "id": "call_1"}])
