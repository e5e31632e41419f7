"""The record of every answer, under its id: ready for feedback and audit."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import Any

from psycopg.types.json import Jsonb

from assistant.config import Settings
from assistant.db import Database
from assistant.embed import resolve_backend
from assistant.errors import InputError, redact
from assistant.models import Answer, Feedback
from assistant.resources import query

# The settings that shape what an answer retrieves and reads: recorded so that it can be reproduced.
RETRIEVAL_SETTINGS = ("top_k", "evidence_size", "retrieval_mode", "rrf_k", "vector_weight", "keyword_weight",
                      "exact_search_below", "ivf_probes", "ivf_max_probes", "fiscal_year_start_month", "llm_agent")


def record_answer(db: Database, answer: Answer, *, settings: Settings, embedding_model: str,
                  prompt_hashes: dict[str, str]) -> None:
    """Insert the answer's record (its own transaction). A secret a provider's error or a model echoed into
    the notes or the summary is redacted: the record is read by reviewers."""
    secrets = settings.secret_values()
    with db.transaction() as conn:
        conn.execute(query("insert_answer"), {
            "id": answer.id, "analyst": answer.analyst, "scopes": list(db.scopes), "question": answer.question,
            "as_of": answer.plan.as_of,
            "plan": _json(answer.plan.model_dump(mode="json")), "matched": answer.facts.matched,
            "evidence_ids": answer.evidence_ids, "evidence_scores": answer.evidence_scores,
            "cited_ids": answer.citations, "summary": redact(answer.summary, secrets),
            "facts": _json(answer.facts.model_dump(mode="json")),
            "themes": _json(answer.themes.model_dump(mode="json")),
            "anomalies": _json([a.model_dump(mode="json") for a in answer.anomalies]),
            "notes": _json([_redacted(n.model_dump(mode="json"), secrets) for n in answer.notes]), "mode": answer.mode,
            "embedding_model": embedding_model, "llm_model": answer.llm_model, "prompt_hashes": _json(prompt_hashes),
            "settings": _json(shaping_settings(settings)), "timings": _json(answer.timings),
        })


def shaping_settings(settings: Settings) -> dict[str, Any]:
    """The settings that shape retrieval, as JSON values (what the record keeps and a replay compares)."""
    shaping: dict[str, Any] = {name: getattr(settings, name) for name in RETRIEVAL_SETTINGS}
    shaping["thresholds"] = asdict(settings.thresholds)
    # What auto meant on the machine: bfloat16 and fp32 vectors share a model name but not every last digit.
    shaping["embedding_backend"] = resolve_backend(settings)
    return dict(json.loads(json.dumps(shaping, default=str)))


def load_answer_record(db: Database, answer_id: str) -> dict[str, Any] | None:
    """The recorded row of an answer, if any."""
    return db.fetch_one("select_answer", {"id": answer_id})


def record_feedback(db: Database, feedback: Feedback) -> int:
    """Store an analyst's verdict on a recorded answer; return its row id."""
    try:
        uuid.UUID(feedback.answer_id)
    except ValueError:
        raise InputError(f"feedback: {feedback.answer_id!r} is not an answer id") from None
    comment = (feedback.comment or "").strip() or None
    with db.transaction() as conn:
        if conn.execute(query("select_answer_exists"), {"id": feedback.answer_id}).fetchone() is None:
            raise InputError(f"feedback: no recorded answer has id {feedback.answer_id!r}")
        row = conn.execute(query("insert_feedback"), {**feedback.model_dump(), "comment": comment}).fetchone()
    assert row is not None
    return int(row[0])


def load_feedback(db: Database, answer_id: str) -> list[dict[str, Any]]:
    """Every verdict on an answer, oldest first."""
    return db.fetch_all("select_feedback", {"answer_id": answer_id})


def _redacted(note: dict[str, Any], secrets: list[str]) -> dict[str, Any]:
    return {**note, "text": redact(str(note.get("text", "")), secrets)}


def _json(value: Any) -> Jsonb:
    return Jsonb(value)
