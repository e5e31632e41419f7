"""The one entry point every front calls: a request in, a stream of typed stages out, a checked Answer last.

Stages, in order: the plan; the evidence (how many events match, the listed hits); the facts over every
matching event and over the evidence; themes and anomalies among the evidence; the summary as it is
written (LLM token deltas, or the offline report's sections); the final checked, recorded Answer.
The database and the analytics compute every figure; an LLM only narrates, and `check.py` holds it to them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel

from assistant.anomalies import find_anomalies
from assistant.check import Check, check_citations, check_text
from assistant.config import Settings
from assistant.db import Database
from assistant.draft import Draft, prompt_hashes, write_draft
from assistant.embed import Embedder
from assistant.errors import LLMError
from assistant.facts import compute_facts
from assistant.figures import event_items, theme_items
from assistant.models import (
    Anomaly,
    Answer,
    AnswerEvent,
    AnswerRequest,
    EventHit,
    EvidenceEvent,
    Fact,
    Facts,
    FactsEvent,
    Mode,
    Note,
    Pattern,
    PlanEvent,
    QueryPlan,
    StreamEvent,
    SummaryDelta,
    ThemeSet,
    ThemesEvent,
)
from assistant.narrate import OFFLINE_NOTICE, Narrative, narrate
from assistant.planning import plan_request
from assistant.record import record_answer
from assistant.retrieve import Fusion, Retrieval, retrieve
from assistant.themes import evidence_vectors, find_themes

log = logging.getLogger(__name__)

# Above this share of unsupported numbers and invented citations, the LLM's draft is set aside for the
# offline answer: a summary that needed that much removed is not one to trust in what is left.
MAX_FAILED_SHARE = 0.34
LISTED_TO_LLM = 30  # events whose text the LLM reads: the listed ones plus those themes and anomalies cite


@dataclass
class _Run:
    """What one answer accumulates as its stages run."""

    request: AnswerRequest
    notes: list[Note] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = round(1000 * (now - self.started), 1)
        self.started = now


def answer_stream(request: AnswerRequest, *, db: Database, embedder: Embedder, settings: Settings,
                  chat_model: BaseChatModel | None = None, record: bool = True) -> Iterator[StreamEvent]:
    """Answer a request stage by stage; the last event is the checked Answer, recorded unless `record` is
    False (an audit replay reads, it does not add to the record)."""
    run = _Run(request)
    plan, planner_notes = plan_request(request, db=db, embedder=embedder, settings=settings, chat_model=chat_model)
    run.notes += planner_notes
    run.lap("plan")
    yield PlanEvent(plan=plan, notes=list(run.notes))
    found = retrieve_evidence(db, embedder, settings, plan)
    evidence, listed = found.hits, found.hits[:plan.k]
    run.notes += [Note(kind="like" if plan.like else "retrieval", text=n) for n in found.notes]
    run.lap("evidence")
    yield EvidenceEvent(matched=found.matched, evidence=len(evidence), hits=listed)
    facts = compute_facts(db, plan, evidence, matched=found.matched, seed_ids=found.seed_ids)
    run.lap("facts")
    yield FactsEvent(facts=facts)
    ids = [h.id for h in evidence]
    vectors = evidence_vectors(db, embedder.name, ids)
    themes = find_themes(ids, vectors, evidence, asked=" ".join([plan.query, *map(str, plan.filters)]))
    run.lap("themes")
    anomalies = find_anomalies(db, ids, vectors, evidence, themes) if ids else []
    run.lap("anomalies")
    yield ThemesEvent(themes=themes, anomalies=anomalies)
    written = yield from _summary(run, chat_model, plan, facts, themes, anomalies, evidence, listed)
    run.lap("summary")
    answer = _assemble(run, plan, found, facts, themes, anomalies, written, chat_model)
    if record:
        record_answer(db, answer, settings=settings, embedding_model=embedder.name,
                      prompt_hashes=prompt_hashes() if answer.mode == "llm" else {})
    yield AnswerEvent(answer=answer)


def answer(request: AnswerRequest, *, db: Database, embedder: Embedder, settings: Settings,
           chat_model: BaseChatModel | None = None, record: bool = True) -> Answer:
    """Run the stream to its end and return the Answer."""
    for event in answer_stream(request, db=db, embedder=embedder, settings=settings, chat_model=chat_model,
                               record=record):
        if isinstance(event, AnswerEvent):
            return event.answer
    raise AssertionError("the answer stream ended without an answer")  # answer_stream always ends with one


@dataclass(frozen=True)
class _Written:
    """The summary as it stands after writing and checking."""

    summary: str
    patterns: list[Pattern]
    caveats: list[str]
    mode: Mode


def retrieve_evidence(db: Database, embedder: Embedder, settings: Settings, plan: QueryPlan) -> Retrieval:
    """The evidence stage: the plan's best-ranked `evidence_size` events under its filters, as settings say."""
    return retrieve(db, embedder, plan, limit=max(plan.k, settings.evidence_size),
                    exact_below=settings.exact_search_below, probes=settings.ivf_probes,
                    max_probes=settings.ivf_max_probes,
                    mode=settings.retrieval_mode, fusion=Fusion.from_settings(settings),
                    work_mem=settings.search_work_mem)


def _summary(run: _Run, chat_model: BaseChatModel | None, plan: QueryPlan, facts: Facts, themes: ThemeSet,
             anomalies: list[Anomaly], evidence: list[EventHit], listed: list[EventHit]
             ) -> Generator[StreamEvent, None, _Written]:
    """Write the summary: the LLM's checked draft, or the offline report (also the fallback)."""
    offline = narrate(plan, facts, themes, anomalies, evidence)
    if chat_model is None or not evidence:
        if chat_model is None:
            run.notes.append(Note(kind="offline", text=OFFLINE_NOTICE))
        yield from _sections(offline)
        return _Written(offline.summary, offline.patterns, [], "offline")
    draft: Draft | None = None
    try:
        for chunk in write_draft(chat_model, plan=plan, facts=facts, themes=themes, anomalies=anomalies,
                                 hits=_shown_to_llm(evidence, listed, themes, anomalies)):
            if isinstance(chunk, str):
                yield SummaryDelta(text=chunk)
            else:
                draft = chunk
    except LLMError as err:
        log.warning("LLM summary failed, falling back to the offline report: %s", err)
        run.notes.append(Note(kind="llm", text=f"the LLM failed ({err}); this is the offline report instead"))
    checked = None if draft is None else _check(run, draft, plan, facts, themes, anomalies, evidence)
    if checked is None:
        yield from _sections(offline)
        return _Written(offline.summary, offline.patterns, [], "offline")
    return checked


def _check(run: _Run, draft: Draft, plan: QueryPlan, facts: Facts, themes: ThemeSet, anomalies: list[Anomaly],
           evidence: list[EventHit]) -> _Written | None:
    """Hold the draft to the facts and the evidence; None when too much of it fails."""
    figures: list[Fact] = [*facts.items, *theme_items(themes, anomalies), *event_items(evidence)]
    allowed = {h.id for h in evidence}
    given = " ".join([plan.question, *(str(f.value) for f in plan.filters)])
    summary = check_text(draft.summary, figures, allowed, given=given)
    claims, failed = _tally(summary)
    notes, patterns = summary.notes(), []
    for p in draft.patterns:
        text, title = (check_text(t, figures, allowed, given=given) for t in (p.text, p.title))
        invented = [i for i in p.event_ids if i not in allowed]
        for checked, bad in (*map(_tally, (text, title)), (len(p.event_ids), len(invented))):
            claims, failed = claims + checked, failed + bad
        notes += text.notes() + title.notes()
        notes += [f"removed citations of events that were not retrieved: {invented}"] if invented else []
        if text.text.strip() and title.text.strip():
            patterns.append(Pattern(title=title.text.strip(), text=text.text.strip(),
                                    event_ids=[i for i in p.event_ids if i in allowed]))
    caveats = [c.text.strip() for c in (check_text(c, figures, allowed, given=given) for c in draft.caveats)
               if c.text.strip()]
    run.notes += [Note(kind="check", text=n) for n in notes]
    if not summary.text.strip() or (claims and failed / claims > MAX_FAILED_SHARE):
        run.notes.append(Note(kind="check", text=f"{failed} of {claims} figures and citations in the LLM's "
                              "summary did not match the computed facts; this is the offline report instead"))
        return None
    return _Written(summary.text.strip(), patterns, caveats, "llm")


def _tally(check: Check) -> tuple[int, int]:
    """Figures and citations checked in a text, and how many of them failed."""
    return check.claims + check.citations, len(check.unsupported) + len(check.removed_citations)


def _sections(offline: Narrative) -> Iterator[StreamEvent]:
    for section in offline.sections:
        yield SummaryDelta(text=section + "\n")


def _shown_to_llm(evidence: list[EventHit], listed: list[EventHit], themes: ThemeSet,
                  anomalies: list[Anomaly]) -> list[EventHit]:
    """The listed events plus those the themes and anomalies point at: the prompt stays bounded."""
    wanted = [h.id for h in listed]
    wanted += [i for t in themes.themes for i in t.representative_ids] + [a.event_id for a in anomalies]
    by_id = {h.id: h for h in evidence}
    return [by_id[i] for i in dict.fromkeys(wanted) if i in by_id][:LISTED_TO_LLM]


def _assemble(run: _Run, plan: QueryPlan, found: Retrieval, facts: Facts, themes: ThemeSet,
              anomalies: list[Anomaly], written: _Written, chat_model: BaseChatModel | None) -> Answer:
    evidence_ids = {h.id for h in found.hits}
    cited = list(dict.fromkeys([*check_citations(written.summary, evidence_ids)[0],
                                *(i for p in written.patterns for i in p.event_ids)]))
    listed = found.hits[:plan.k]
    beyond = [h for h in found.hits if h.id in set(cited) - {h.id for h in listed}]
    order = {event_id: rank for rank, event_id in enumerate(cited)}
    events = sorted([*listed, *beyond], key=lambda h: (h.id not in order, order.get(h.id, 0)))
    run.notes.append(Note(kind="retrieval", text=f"{found.mode} retrieval, {found.method} search"))
    return Answer(question=run.request.question, analyst=run.request.analyst, plan=plan, events=events,
                  evidence_ids=[h.id for h in found.hits], evidence_scores=[h.score for h in found.hits],
                  summary=written.summary, patterns=written.patterns, facts=facts, themes=themes,
                  anomalies=anomalies, caveats=written.caveats, citations=cited, mode=written.mode,
                  llm_model=_model_name(chat_model) if written.mode == "llm" else None, notes=run.notes,
                  timings=run.timings)


def _model_name(chat_model: BaseChatModel | None) -> str | None:
    name = getattr(chat_model, "model_name", None) or getattr(chat_model, "model", None)
    return str(name) if name else type(chat_model).__name__
