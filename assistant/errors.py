"""One base error; every message says what went wrong and what to do about it."""

from __future__ import annotations


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
