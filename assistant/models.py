"""Typed values shared by every part of the assistant: events, plans, hits, reports, answers."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Severity = Literal["low", "medium", "high", "critical"]
SEVERITIES: tuple[Severity, ...] = ("low", "medium", "high", "critical")
FilterOp = Literal[
    "eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between", "contains", "exists"
]
Mode = Literal["offline", "llm"]
QUERY_MAX = 2000  # characters of a plan's query text


def _no_nul(text: str) -> str:
    # PostgreSQL text cannot hold NUL: refused here, by name, rather than as a database error later.
    if "\x00" in text:
        raise ValueError("must not contain a NUL (\\x00) character")
    return text


Text = Annotated[str, AfterValidator(_no_nul)]


def _no_nul_inside(value: Any) -> Any:
    # A filter value is stored with the plan (JSONB), where NUL cannot be either, however deep it sits.
    if isinstance(value, str):
        return _no_nul(value)
    for part in value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else ():
        _no_nul_inside(part)
    return value


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
    value: Annotated[Any, AfterValidator(_no_nul_inside)] = None

    def __str__(self) -> str:
        return f"{self.field} {self.op} {self.value}"


class LikeTarget(BaseModel):
    """A "like X" seed: an event id or an entity / account id."""

    kind: Literal["event", "entity"]
    value: Text


class Reading(BaseModel):
    """How the planner read a filter it is not certain of: approximately, by meaning, by an alias."""

    filter: Filter
    certainty: float  # 0..1: similarity or the reading rule's confidence; 1.0 is a word-for-word match
    how: Text


class QueryPlan(BaseModel):
    """What will run for a question: filters, semantic query text, optional seed, k, as-of date."""

    question: Text
    # Bounded: every word of the query text becomes an alternative of one full-text query, and tens of
    # thousands of them exhaust PostgreSQL's stack (make_plan cuts a question's query text to fit).
    query: Annotated[Text, Field(max_length=QUERY_MAX)]
    filters: list[Filter] = Field(default_factory=list)
    keywords: list[Annotated[Text, Field(max_length=100)]] = Field(default_factory=list, max_length=32)
    like: LikeTarget | None = None
    k: int = Field(default=20, ge=1, le=500)  # the bounds of the top_k setting; SQL's LIMIT takes no more
    as_of: dt.date
    notes: list[Text] = Field(default_factory=list)
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


FactKind = Literal["count", "share", "amount", "number", "change", "p_value", "date"]
NoteKind = Literal["coverage", "planner", "relaxed", "retrieval", "like", "trend", "llm", "check", "offline"]


class Fact(BaseModel):
    """One computed figure with a stable key, so that a number in prose can be traced to what produced it."""

    key: str  # e.g. "matched.category[fraud_alert].count", "trend.count.change_pct"
    label: str  # the figure in words, for prompts and for the checker's notes
    value: float | int | str  # a "date" fact holds an ISO date or month ("2025-11-03", "2025-11")
    kind: FactKind
    currency: str | None = None
    event_ids: list[int] = Field(default_factory=list)  # evidence events behind it, when it counts evidence


class Breakdown(BaseModel):
    """Counts of one dimension (category, subcategory, severity, month, entity) over one set of events.
    "month_category" (matched events only) counts each month and category together, values "YYYY-MM category",
    in date order: the series of a chart over time."""

    dimension: str
    scope: Literal["matched", "evidence"]
    total: int  # events in the scope
    counts: list[Count] = Field(default_factory=list)  # most common first (months: in date order)


class AmountStats(BaseModel):
    """Amount statistics in one currency over one set of events (those with an amount)."""

    scope: Literal["matched", "evidence"]
    currency: str | None
    events: int
    total: Decimal
    median: Decimal
    min: Decimal
    max: Decimal


class NumericStats(BaseModel):
    """Statistics of one numeric attribute (or a before/after change, such as a score drop) over one set."""

    scope: Literal["matched", "evidence"]
    field: str  # an attribute key, or "<name> change" for a <name>_before / <name>_after pair
    events: int
    mean: float
    median: float
    min: float
    max: float


class TrendAmount(BaseModel):
    """Amount totals in one currency, this period and the previous one."""

    currency: str | None
    total: Decimal
    previous_total: Decimal


class Trend(BaseModel):
    """The plan's period against the preceding period of equal length, under the same other filters."""

    start: dt.date
    end: dt.date  # exclusive
    previous_start: dt.date  # the previous period is [previous_start, start): as many calendar months, or days
    count: int
    previous_count: int
    change_pct: float | None  # None when the previous period had no events
    p_value: float  # two-sided exact test of equal daily Poisson rates (binomial: count | total, by days)
    significant: bool  # p_value < 0.05
    amounts: list[TrendAmount] = Field(default_factory=list)
    note: str | None = None  # e.g. the stored data starts inside the previous period


class LikeContrast(BaseModel):
    """For "like X": what the target's events and the matches share, and how the matches differ."""

    target: str
    target_events: int
    profile: dict[str, str] = Field(default_factory=dict)  # the target's most common value per field
    shared: list[Count] = Field(default_factory=list)  # "<field> = <target value>": evidence events sharing it
    differing: list[Count] = Field(default_factory=list)  # "<field> = <other value>": the matches' commonest other


class Facts(BaseModel):
    """Everything the database computed for an answer, over every matching event and over the evidence."""

    matched: int
    evidence: int
    breakdowns: list[Breakdown] = Field(default_factory=list)
    amounts: list[AmountStats] = Field(default_factory=list)
    numeric: list[NumericStats] = Field(default_factory=list)
    shared_attributes: list[Count] = Field(default_factory=list)  # attribute values several evidence events share
    trend: Trend | None = None
    like: LikeContrast | None = None
    items: list[Fact] = Field(default_factory=list)  # every figure above, flattened under its stable key

    def breakdown(self, dimension: str, scope: Literal["matched", "evidence"] = "matched") -> list[Count]:
        """The counts of one dimension in one scope (empty when not computed)."""
        found = [b for b in self.breakdowns if b.dimension == dimension and b.scope == scope]
        return found[0].counts if found else []

    def fact(self, key: str) -> Fact | None:
        """The fact under a stable key, if computed."""
        return next((f for f in self.items if f.key == key), None)


class Theme(BaseModel):
    """A group of similar evidence events, labelled by its distinctive terms."""

    id: int  # 1 = the largest
    label: str
    terms: list[str]
    size: int
    share: float  # of the evidence, 0..1
    event_ids: list[int]
    representative_ids: list[int]  # nearest the theme's centroid first
    dominant: list[Count] = Field(default_factory=list)  # "<field> = <value>" held by most of the theme


class ThemeSet(BaseModel):
    """The themes found over the evidence and how they were found."""

    method: Literal["hdbscan", "kmeans", "none"]
    themes: list[Theme] = Field(default_factory=list)
    unassigned: int = 0  # evidence events in no theme (HDBSCAN's noise)


class Anomaly(BaseModel):
    """An evidence event that stands out, and why in words."""

    event_id: int
    kind: Literal["outlier", "amount", "timing"]
    score: float  # a robust z-score: larger is more unusual
    reason: str


class Pattern(BaseModel):
    """One pattern in an answer: a short title, a sentence or two, and the events that show it."""

    title: str
    text: str  # plain text; may hold citation markers [#id]
    event_ids: list[int] = Field(default_factory=list)


class Note(BaseModel):
    """Something the analyst should know about how an answer was made."""

    kind: NoteKind
    text: str

    def __str__(self) -> str:
        return self.text


class Answer(BaseModel):
    """A checked answer: structure, not markup. Renderers (assistant/render/) format it per target."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    question: str
    analyst: str = "local"
    plan: QueryPlan
    events: list[EventHit]  # the listed events, cited first
    evidence_ids: list[int] = Field(default_factory=list)  # the best-ranked events facts and themes drew on
    evidence_scores: list[float] = Field(default_factory=list)
    summary: str  # plain text; citation markers [#id]
    patterns: list[Pattern] = Field(default_factory=list)
    facts: Facts
    themes: ThemeSet = Field(default_factory=lambda: ThemeSet(method="none"))
    anomalies: list[Anomaly] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    citations: list[int] = Field(default_factory=list)
    mode: Mode
    llm_model: str | None = None
    notes: list[Note] = Field(default_factory=list)
    timings: dict[str, float] = Field(default_factory=dict)  # milliseconds per stage

    @property
    def coverage(self) -> str:
        """How much was read: every matching event for the facts, the best-ranked for themes and listing."""
        return (f"{self.facts.matched} events match; the themes and listed events are drawn from the "
                f"{self.facts.evidence} best-ranked")


Rating = Literal["up", "down"]
FeedbackSource = Literal["ui", "slack", "api", "cli"]


class Feedback(BaseModel):
    """An analyst's verdict on an answer, from one of the fronts."""

    answer_id: str
    analyst: str
    rating: Rating
    comment: str | None = Field(default=None, max_length=2000)
    source: FeedbackSource


class AnswerRequest(BaseModel):
    """A question for pipeline.answer_stream, from any front."""

    question: Text
    analyst: str = "local"
    as_of: dt.date | None = None
    plan: QueryPlan | None = None  # a given plan runs as is
    exact: bool = True  # with a given plan: False lets an empty one be relaxed like a planner's
    previous: QueryPlan | None = None  # the conversation's last plan: a follow-up refines it


class PlanEvent(BaseModel):
    """Stage 1: the plan that will run, and how it was made."""

    stage: Literal["plan"] = "plan"
    plan: QueryPlan
    notes: list[Note] = Field(default_factory=list)


class EvidenceEvent(BaseModel):
    """Stage 2: how many events match, and the listed hits."""

    stage: Literal["evidence"] = "evidence"
    matched: int
    evidence: int
    hits: list[EventHit]


class FactsEvent(BaseModel):
    """Stage 3: the facts over every matching event and over the evidence."""

    stage: Literal["facts"] = "facts"
    facts: Facts


class ThemesEvent(BaseModel):
    """Stage 4: themes and anomalies among the evidence."""

    stage: Literal["themes"] = "themes"
    themes: ThemeSet
    anomalies: list[Anomaly]


class SummaryDelta(BaseModel):
    """Stage 5, repeated: summary text as it is written (LLM tokens, or offline report sections).
    The final Answer holds the checked summary, which may differ from the drafted deltas."""

    stage: Literal["summary"] = "summary"
    text: str


class AnswerEvent(BaseModel):
    """Stage 6: the final, checked answer (already recorded under its id)."""

    stage: Literal["answer"] = "answer"
    answer: Answer


StreamEvent = Annotated[PlanEvent | EvidenceEvent | FactsEvent | ThemesEvent | SummaryDelta | AnswerEvent,
                        Field(discriminator="stage")]

