"""The audit trail: every recorded answer listed, shown, and replayed to see whether it still holds.

A replay re-runs the recorded plan exactly, as of its recorded date and within the scopes it was answered
in, without an LLM and without recording anything, then compares the evidence (ids, order and scores) and
the computed facts with the record, and names what changed since: events ingested or updated that match
the plan, another embedding model, other retrieval settings, other prompts.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass, field
from typing import Any

from psycopg import sql

from assistant import pipeline
from assistant.config import Settings
from assistant.db import Database
from assistant.draft import prompt_hashes
from assistant.embed import Embedder
from assistant.errors import InputError
from assistant.filters import compile_filters
from assistant.models import Answer, AnswerRequest, QueryPlan
from assistant.record import load_answer_record, shaping_settings
from assistant.resources import query

SCORE_TOLERANCE = 1e-6  # float8 scores survive the round trip; anything larger is a changed ranking


@dataclass(frozen=True)
class Change:
    """One difference between the record and the replay, in words: what, then and now."""

    what: str
    recorded: Any
    replayed: Any


@dataclass
class Replay:
    """The outcome of replaying one recorded answer."""

    answer_id: str
    asked_at: dt.datetime
    evidence: list[Change] = field(default_factory=list)  # empty: the same ids, order and scores
    facts: list[Change] = field(default_factory=list)  # empty: every computed figure the same
    causes: list[Change] = field(default_factory=list)  # what differs since: data, model, settings, prompts

    @property
    def same(self) -> bool:
        """Whether the evidence and the facts are what the record holds."""
        return not self.evidence and not self.facts


def list_answers(db: Database, *, analyst: str | None = None, limit: int = 20) -> list[dict[str, Any]]:
    """The latest recorded answers (that this handle's scopes may read), newest first."""
    return db.fetch_all("select_answers", {"analyst": analyst, "limit": limit})


def show_answer(db: Database, answer_id: str) -> dict[str, Any]:
    """One recorded answer in full; InputError when there is none (or it is outside the scopes)."""
    _check_id(answer_id)
    record = load_answer_record(db, answer_id)
    if record is None:
        raise InputError(f"audit: no recorded answer has id {answer_id!r}")
    return record


def replay_answer(db: Database, embedder: Embedder, settings: Settings, answer_id: str) -> Replay:
    """Re-run a recorded answer's plan and compare it with the record."""
    record = show_answer(db, answer_id)
    plan = QueryPlan.model_validate(record["plan"])
    scoped = db.scoped(record["scopes"])
    request = AnswerRequest(question=record["question"], analyst=record["analyst"], as_of=record["as_of"],
                            plan=plan, exact=True)
    again = pipeline.answer(request, db=scoped, embedder=embedder, settings=settings, record=False)
    replay = Replay(answer_id=answer_id, asked_at=record["asked_at"])
    replay.evidence = compare_evidence(record, again)
    replay.facts = compare_facts(record["facts"]["items"], again.facts.model_dump(mode="json")["items"])
    replay.causes = find_causes(scoped, record, plan, embedder, settings)
    return replay


def compare_evidence(record: dict[str, Any], again: Answer) -> list[Change]:
    """Differences in the evidence: ids gained or lost, a new order, scores that moved."""
    before, after = list(record["evidence_ids"]), again.evidence_ids
    changes: list[Change] = []
    if set(before) != set(after):
        changes.append(Change("evidence ids", sorted(set(before) - set(after)), sorted(set(after) - set(before))))
    elif before != after:
        changes.append(Change("evidence order", before[:10], after[:10]))
    scores = dict(zip(before, record["evidence_scores"], strict=True))
    moved = {i: (scores[i], s) for i, s in zip(after, again.evidence_scores, strict=True)
             if i in scores and abs(scores[i] - s) > SCORE_TOLERANCE}
    if moved:
        worst = max(moved, key=lambda i: abs(moved[i][0] - moved[i][1]))
        changes.append(Change(f"scores of {len(moved)} events (largest move: #{worst})", *moved[worst]))
    return changes


def compare_facts(recorded: list[dict[str, Any]], replayed: list[dict[str, Any]]) -> list[Change]:
    """Every computed figure whose value differs, appeared or disappeared, by its stable key."""
    before = {f["key"]: f["value"] for f in recorded}
    after = {f["key"]: f["value"] for f in replayed}
    return [Change(key, before.get(key), after.get(key)) for key in sorted(before.keys() | after.keys())
            if not _same_value(before.get(key), after.get(key))]


def find_causes(db: Database, record: dict[str, Any], plan: QueryPlan, embedder: Embedder,
                settings: Settings) -> list[Change]:
    """What differs between then and now that could change the answer."""
    causes: list[Change] = []
    compiled = compile_filters(plan.filters)
    statement = sql.SQL(query("count_events_changed_since")).format(where=compiled.where)
    ingested, updated = db.execute(statement, {**compiled.params, "since": record["asked_at"]})[0]
    if ingested or updated:
        causes.append(Change("events matching the plan ingested / updated since", "0 / 0",
                             f"{ingested} / {updated}"))
    if record["embedding_model"] != embedder.name:
        causes.append(Change("embedding model", record["embedding_model"], embedder.name))
    now = shaping_settings(settings)
    # Answers recorded before the backend was recorded were embedded by fp32 torch (onnx-int8 has its own name).
    then = {"embedding_backend": "torch", **record["settings"]}
    causes += [Change(f"setting {name}", then.get(name), now.get(name))
               for name in sorted(now.keys() | then.keys()) if then.get(name) != now.get(name)]
    if record["mode"] == "llm":
        hashes = prompt_hashes()
        causes += [Change(f"prompt {name}", digest, hashes.get(name))
                   for name, digest in sorted(record["prompt_hashes"].items()) if hashes.get(name) != digest]
    return causes


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


def _check_id(answer_id: str) -> None:
    try:
        uuid.UUID(answer_id)
    except ValueError:
        raise InputError(f"audit: {answer_id!r} is not an answer id") from None
