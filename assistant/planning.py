"""Which plan a request runs: a given plan as is, else the LLM agent's (when configured) or the
deterministic planner's, refined from the previous plan for a follow-up, relaxed when it matches nothing.

Every front goes through `plan_request`, so `risk-assistant plan` shows exactly what `ask` runs.
"""

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
from assistant.followup import is_bare_period, is_follow_up, period_end, refine, strip_reset
from assistant.like import find_like, resolve_like
from assistant.meaning import value_names
from assistant.models import AnswerRequest, Note, QueryPlan
from assistant.places import place_fields
from assistant.plan import ENTITY_ID, Vocabulary, make_plan
from assistant.relax import relax_plan

log = logging.getLogger(__name__)


def plan_request(request: AnswerRequest, *, db: Database, embedder: Embedder, settings: Settings,
                 chat_model: BaseChatModel | None = None) -> tuple[QueryPlan, list[Note]]:
    """The plan a request runs, and notes on how it was made."""
    notes: list[Note] = []
    if request.plan is not None:
        plan, relax = request.plan, not request.exact
    else:
        plan, relax = _new_plan(request, db, embedder, settings, chat_model, notes), True
    if relax:
        plan, relaxed = relax_plan(db, plan)
        notes += [Note(kind="relaxed", text=relaxed)] if relaxed else []
    return plan, notes


def plan_question(db: Database, question: str, *, as_of: dt.date | None = None, k: int = 20,
                  fiscal_year_start_month: int = 1, embedder: Embedder | None = None,
                  thresholds: Thresholds | None = None) -> QueryPlan:
    """The plan the deterministic planner makes for a question (with an embedder, it also grounds
    phrases in stored value names by meaning)."""
    return make_plan(question, load_vocabulary(db, question, embedder, thresholds), as_of or dt.date.today(), k,
                     fiscal_year_start_month=fiscal_year_start_month)


def _new_plan(request: AnswerRequest, db: Database, embedder: Embedder, settings: Settings,
              chat_model: BaseChatModel | None, notes: list[Note]) -> QueryPlan:
    text, reset = strip_reset(request.question)
    as_of = request.as_of or dt.date.today()
    previous = None if reset else request.previous
    follow_up = previous is not None and is_follow_up(text)
    plan = None
    if chat_model is not None and settings.llm_agent and not follow_up:
        plan = _agent_plan(text, db, embedder, settings, chat_model, as_of, notes)
    if plan is None:
        plan = deterministic_plan(db, text, as_of, embedder, settings)
    if not follow_up or previous is None:
        return plan
    anchor = period_end(previous)
    if is_bare_period(plan) and anchor is not None and anchor < as_of:
        # "what about Q3?" after a Q4 2025 question means Q3 2025, not the latest Q3.
        plan = deterministic_plan(db, text, anchor, embedder, settings).model_copy(update={"as_of": as_of})
    return refine(previous, plan)


def deterministic_plan(db: Database, text: str, as_of: dt.date, embedder: Embedder, settings: Settings) -> QueryPlan:
    """The deterministic planner's reading of a question under the settings, before any relaxation."""
    return plan_question(db, text, as_of=as_of, k=settings.top_k,
                         fiscal_year_start_month=settings.fiscal_year_start_month, embedder=embedder,
                         thresholds=settings.thresholds)


def _agent_plan(question: str, db: Database, embedder: Embedder, settings: Settings, chat_model: BaseChatModel,
                as_of: dt.date, notes: list[Note]) -> QueryPlan | None:
    """The tool-calling agent's plan, or None and a note saying the deterministic plan runs instead."""
    try:
        return run_agent(question, db=db, embedder=embedder, settings=settings, chat_model=chat_model, as_of=as_of)
    except LLMError as err:
        log.warning("LLM planner failed, falling back to the deterministic plan: %s", err)
        notes.append(Note(kind="planner", text=f"the LLM planner failed ({err}); the deterministic plan ran"))
        return None


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
