"""One base error; every message says what went wrong and what to do about it."""

from __future__ import annotations

import re
from collections.abc import Iterable

_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")


def redact(text: str, secrets: Iterable[str]) -> str:
    """The text with every secret value, and any password inside a URL, replaced by ***
    (longest first, so that a secret containing another is hidden whole)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "***")
    return _URL_PASSWORD.sub(r"\1***@", text)


class AssistantError(Exception):
    """Base of every error the core raises on purpose."""


class ConfigError(AssistantError):
    """A setting is missing or inconsistent."""


class DatabaseError(AssistantError):
    """The database could not be started, reached or migrated."""


class EmbeddingModelError(AssistantError):
    """The embedding model could not be loaded or does not match the stored vectors."""


class InputError(AssistantError):
    """An input file, mapping or row is unusable; the message names file, row and field."""


class PlanError(AssistantError):
    """A query plan names a field, operator or value that is not allowed."""


class LLMError(AssistantError):
    """The language model failed or returned something unusable."""
