"""Risk Assistant: conversational RAG over risk events in PostgreSQL + pgvector."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Answer", "QueryPlan", "RiskAssistant", "Settings"]

if TYPE_CHECKING:
    from assistant.api import RiskAssistant
    from assistant.config import Settings
    from assistant.models import Answer, QueryPlan


def __getattr__(name: str) -> Any:
    # Lazy: importing the package (the watchdog does) must not load torch or the database driver.
    if name == "RiskAssistant":
        from assistant.api import RiskAssistant

        return RiskAssistant
    if name == "Settings":
        from assistant.config import Settings

        return Settings
    if name in ("Answer", "QueryPlan"):
        from assistant import models

        return getattr(models, name)
    raise AttributeError(name)
