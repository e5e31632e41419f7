"""The one entry point every front calls: a question in, a cited Answer out."""

from __future__ import annotations

import datetime as dt
import logging

from langchain_core.language_models import BaseChatModel

from assistant import registry
from assistant.agent import run_agent
from assistant.config import Settings, Thresholds
from assistant.db import Database
from assistant.embed import Embedder
from assistant.errors import LLMError
from assistant.like import find_like, resolve_like
from assistant.meaning import value_names
from assistant.models import Answer, EventHit, Mode, PatternReport, QueryPlan
from assistant.places import place_fields
from assistant.plan import ENTITY_ID, Vocabulary, make_plan
from assistant.relax import relax_plan
from assistant.report import build_report
from assistant.retrieve import Fusion, retrieve
from assistant.summarize import citations, llm_summary, offline_summary, strip_citations

log = logging.getLogger(__name__)


def plan_question(db: Database, question: str, *, as_of: dt.date | None = None, k: int = 20,
                  fiscal_year_start_month: int = 1, embedder: Embedder | None = None,
                  thresholds: Thresholds | None = None) -> QueryPlan:
    """The plan the deterministic planner makes for a question (with an embedder, it also grounds
    phrases in stored value names by meaning)."""
    return make_plan(question, load_vocabulary(db, question, embedder, thresholds), as_of or dt.date.today(), k,
                     fiscal_year_start_month=fiscal_year_start_month)


def answer(question: str, *, db: Database, embedder: Embedder, settings: Settings,
           chat_model: BaseChatModel | None = None, as_of: dt.date | None = None,
           plan: QueryPlan | None = None, use_agent: bool = False, relax: bool | None = None) -> Answer:
    """Plan (unless a plan is given), relax a plan that matches nothing (by default only a plan made
    here: an edited plan runs exactly as given), retrieve under the filters, report, summarise, cite."""
    planner_notes: list[str] = []
    relax = plan is None if relax is None else relax
    if plan is None and chat_model is not None and use_agent:
        plan, planner_notes = _agent_plan(question, db, embedder, settings, chat_model, as_of or dt.date.today())
    plan = plan or plan_question(db, question, as_of=as_of, k=settings.top_k,
                                 fiscal_year_start_month=settings.fiscal_year_start_month, embedder=embedder,
                                 thresholds=settings.thresholds)
    if relax:
        plan, relaxed = relax_plan(db, plan)
        planner_notes += [relaxed] if relaxed else []
    found = retrieve(db, embedder, plan, limit=max(plan.k, settings.evidence_size),
                     exact_below=settings.exact_search_below, ef_search=settings.hnsw_ef_search,
                     mode=settings.retrieval_mode, fusion=Fusion.from_settings(settings),
                     work_mem=settings.search_work_mem)
    report = build_report(db, embedder.name, [h.id for h in found.hits], found.matched)
    hits = found.hits[:plan.k]
    notes = [f"{found.matched} events matched the filters; the report covers the {report.evidence} "
             f"best-ranked; {len(hits)} are listed ({found.mode} retrieval, {found.method} search)",
             *found.notes, *planner_notes]
    offline = offline_summary(plan, report, found.hits)
    summary, mode = _summarise(chat_model, plan, report, _shown_to_llm(found.hits, hits, offline), offline, notes)
    valid, invalid = citations(summary, {h.id for h in found.hits})
    if invalid:
        summary = strip_citations(summary, invalid)
        notes.append(f"removed citations of events that were not retrieved: {invalid}")
    beyond = set(valid) - {h.id for h in hits}
    cited_beyond = [h for h in found.hits if h.id in beyond]
    events = _cited_first([*hits, *cited_beyond], valid)
    return Answer(question=question, plan=plan, events=events, report=report,
                  summary=summary, citations=valid, mode=mode, notes=notes)


def load_vocabulary(db: Database, question: str, embedder: Embedder | None = None,
                    thresholds: Thresholds | None = None) -> Vocabulary:
    """Stored categories and subcategories (with their embedded names, given an embedder), the
    categories each subcategory is stored under, the attribute values the question names, and which
    ids in the question are stored entities."""
    stored = registry.stored_values(db, ("category", "subcategory"))
    vocabulary = Vocabulary(categories=stored["category"], subcategories=stored["subcategory"],
                            choices=registry.choices(db), trigram_min=(thresholds or Thresholds()).trigram_min,
                            numeric_fields={key: [] for key in registry.numeric_fields(db)})
    for row in db.fetch_all("select_subcategory_parents"):
        vocabulary.parents.setdefault(row["subcategory"], set()).add(row["category"])
    if embedder is not None:
        fields = {"category": vocabulary.categories, "subcategory": vocabulary.subcategories, **vocabulary.choices}
        vocabulary.meaning = value_names(embedder, fields, registry.labels(db, list(fields)), thresholds)
    stored_places = registry.place_candidates(db)
    vocabulary.place_fields = place_fields(stored_places)
    vocabulary.place_values = {f.field: stored_places[f.field] for f in vocabulary.place_fields}
    vocabulary.companies = registry.company_index(db)
    # Companies are read by the company index; places by their own reader: pg_trgm reads other attributes.
    places = {f.field for f in vocabulary.place_fields}
    vocabulary.attribute_values = [(m.field, m.value, m.score) for m in registry.values_in_text(db, question)
                                   if m.field not in places]
    phrase = find_like(question)
    if phrase is not None:
        vocabulary.like = resolve_like(db, phrase)
    candidates = [m.upper() for m in ENTITY_ID.findall(question)]
    if candidates:
        rows = db.fetch_all("select_known_entities", {"ids": candidates})
        vocabulary.known_entities = {r["entity_id"] for r in rows}
    return vocabulary


def _agent_plan(question: str, db: Database, embedder: Embedder, settings: Settings, chat_model: BaseChatModel,
                as_of: dt.date) -> tuple[QueryPlan | None, list[str]]:
    """The tool-calling agent's plan, or None and a note saying the deterministic plan runs instead."""
    try:
        return run_agent(question, db=db, embedder=embedder, settings=settings, chat_model=chat_model,
                         as_of=as_of), []
    except LLMError as err:
        log.warning("LLM planner failed, falling back to the deterministic plan: %s", err)
        return None, [f"the LLM planner failed ({err}); the deterministic plan ran"]


def _shown_to_llm(evidence: list[EventHit], listed: list[EventHit], offline: str) -> list[EventHit]:
    """The listed events plus those the computed report cites: the LLM's prompt stays bounded."""
    evidence_ids = {h.id for h in evidence}
    extra = set(citations(offline, evidence_ids)[0]) - {h.id for h in listed}
    return [*listed, *[h for h in evidence if h.id in extra]]


def _summarise(chat_model: BaseChatModel | None, plan: QueryPlan, report: PatternReport,
               hits: list[EventHit], offline: str, notes: list[str]) -> tuple[str, Mode]:
    if chat_model is None or not hits:
        return offline, "offline"
    try:
        return llm_summary(chat_model, plan, report, hits), "llm"
    except LLMError as err:
        log.warning("LLM summary failed, falling back to the offline report: %s", err)
        notes.append(f"the LLM failed ({err}); this is the offline report instead")
        return offline, "offline"


def _cited_first(hits: list[EventHit], cited: list[int]) -> list[EventHit]:
    order = {event_id: rank for rank, event_id in enumerate(cited)}
    return sorted(hits, key=lambda h: (h.id not in order, order.get(h.id, 0)))
