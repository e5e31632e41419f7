"""Typed values shared by every part of the assistant: events, plans, hits, reports, answers."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
FilterOp = Literal[
    "eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between", "contains", "exists"
]
Mode = Literal["offline", "llm"]


class RiskEvent(BaseModel):
    """One risk event in canonical form, as ingestion stores it."""

    model_config = ConfigDict(frozen=True)

    source: str
    source_id: str
    occurred_at: dt.datetime
    category: str
    subcategory: str | None = None
    severity: Severity | None = None
    entity_id: str | None = None
    entity_name: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    status: str | None = None
    title: str | None = None
    text: str
    attributes: dict[str, Any] = Field(default_factory=dict)
    scope: str = "default"


class Filter(BaseModel):
    """One metadata condition: field, operator, value (bound as a parameter, never spliced)."""

    field: str
    op: FilterOp
    value: Any = None

    def __str__(self) -> str:
        return f"{self.field} {self.op} {self.value}"


class LikeTarget(BaseModel):
    """A "like X" seed: an event id or an entity / account id."""

    kind: Literal["event", "entity"]
    value: str


class Reading(BaseModel):
    """How the planner read a filter it is not certain of: approximately, by meaning, by an alias."""

    filter: Filter
    certainty: float  # 0..1: similarity or the reading rule's confidence; 1.0 is a word-for-word match
    how: str


class QueryPlan(BaseModel):
    """What will run for a question: filters, semantic query text, optional seed, k, as-of date."""

    question: str
    query: str
    filters: list[Filter] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    like: LikeTarget | None = None
    k: int = 20
    as_of: dt.date
    notes: list[str] = Field(default_factory=list)
    # The applied filters read with less than full certainty: the first to relax when nothing matches.
    readings: list[Reading] = Field(default_factory=list)
    # Readings below their confidence threshold: shown, not applied.
    suggestions: list[Reading] = Field(default_factory=list)


class EventHit(BaseModel):
    """A retrieved event with its similarity score (cosine similarity, higher is closer)."""

    id: int
    score: float
    fields: dict[str, Any]
    shared: dict[str, Any] = Field(default_factory=dict)  # for "like X": metadata it shares with X


class Count(BaseModel):
    """A value and how many retrieved events carry it."""

    value: str
    count: int
    event_ids: list[int] = Field(default_factory=list)


class AmountStats(BaseModel):
    """Amount statistics, in one currency, over the retrieved events that have an amount."""

    currency: str | None
    events: int
    total: Decimal
    median: Decimal
    max: Decimal


class PatternReport(BaseModel):
    """Aggregates over the evidence (the best-ranked matching events), computed by the database."""

    evidence: int  # events aggregated: the top evidence_size by similarity under the filters
    matched: int  # events matching the filters in all
    by_category: list[Count] = Field(default_factory=list)
    by_severity: list[Count] = Field(default_factory=list)
    by_month: list[Count] = Field(default_factory=list)
    top_entities: list[Count] = Field(default_factory=list)
    shared_attributes: list[Count] = Field(default_factory=list)
    amounts: list[AmountStats] = Field(default_factory=list)
    representative_ids: list[int] = Field(default_factory=list)


class Answer(BaseModel):
    """The result of a question: the plan that ran, the evidence, the summary and its citations."""

    question: str
    plan: QueryPlan
    events: list[EventHit]
    report: PatternReport
    summary: str
    citations: list[int]
    mode: Mode
    notes: list[str] = Field(default_factory=list)
