"""The chat model behind LLM mode: LangChain's ChatOpenAI on any OpenAI-compatible endpoint."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from assistant.config import Settings


def make_chat_model(settings: Settings) -> BaseChatModel | None:
    """ChatOpenAI from the settings, or None when no endpoint is configured (offline mode)."""
    if not settings.llm_configured:
        return None
    from langchain_openai import ChatOpenAI

    # Local servers (vLLM, Ollama, llama.cpp) accept any key; the client insists on one.
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else "not-needed"
    return ChatOpenAI(model=settings.llm_model, api_key=api_key,  # type: ignore[arg-type]
                      base_url=settings.openai_base_url, timeout=settings.llm_timeout_s,
                      max_retries=settings.llm_max_retries, temperature=0)
