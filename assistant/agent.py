"""The LLM planner: a tool-calling agent whose last search becomes the plan the pipeline runs."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

import psycopg
from langchain.agents import create_agent
from langchain.agents.middleware import ModelRequest, ModelResponse, ToolCallRequest, wrap_model_call, wrap_tool_call
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, ToolCall, ToolMessage
from langchain_core.tools import BaseTool, tool
from langgraph.errors import GraphRecursionError
from psycopg import sql
from pydantic import ValidationError

from assistant import registry
from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder
from assistant.errors import AssistantError, LLMError, PlanError
from assistant.filters import ATTRIBUTE_PREFIX, COLUMNS, compile_filters, field_type
from assistant.meaning import ValueNames, value_names
from assistant.models import EventHit, Filter, LikeTarget, QueryPlan
from assistant.resources import prompt, query
from assistant.retrieve import Fusion, retrieve

MAX_ROUNDS = 6  # rounds of tool calls before the agent must stop; one more reply ends the run
GroupBy = Literal["category", "subcategory", "severity", "status", "month", "entity_id"]
GROUP_BY: tuple[str, ...] = get_args(GroupBy)
# Low-cardinality fields whose values the registry (field_values) holds: a filter may name only those.
REGISTRY_FIELDS = ("category", "subcategory", "severity", "status", "currency")
LISTED = 10  # events a search shows the model
MAX_GROUPS = 50
_SET_OPS = ("in", "not_in")
_CHECKED_OPS = ("eq", "ne", *_SET_OPS)


class AgentError(LLMError):
    """The LLM planner failed, ran out of rounds or time, or searched nothing."""


@dataclass
class AgentSession:
    """What the tools work on, and the plan of the last search they ran."""

    db: Database
    embedder: Embedder
    settings: Settings
    question: str
    as_of: dt.date
    vocabulary: Mapping[str, Collection[str]]
    meaning: ValueNames | None = None  # embedded category / subcategory names, for values named loosely
    plan: QueryPlan | None = None


def run_agent(question: str, *, db: Database, embedder: Embedder, settings: Settings,
              chat_model: BaseChatModel, as_of: dt.date) -> QueryPlan:
    """The plan of the agent's last search; AgentError when it fails, overruns, or never searches.

    The agent is LangChain's `create_agent` (a LangGraph loop of model and tool calls). Two middlewares
    bound it: every model call first checks the run's deadline, and every tool call goes through
    `run_tool`, so that bad arguments and refused values come back to the model as errors."""
    stored = registry.stored_values(db, REGISTRY_FIELDS)
    meaning = value_names(embedder, {name: list(stored[name]) for name in ("category", "subcategory")},
                          thresholds=settings.thresholds)
    session = AgentSession(db, embedder, settings, question, as_of, stored, meaning)
    tools = make_tools(session)
    by_name = {t.name: t for t in tools}
    deadline = time.monotonic() + settings.llm_timeout_s

    @wrap_model_call
    def within_deadline(request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]) -> ModelResponse:
        if time.monotonic() > deadline:
            raise AgentError(f"it ran past the {settings.llm_timeout_s:g}s timeout")
        return handler(request)

    @wrap_tool_call  # type: ignore[arg-type]
    def guarded_tools(request: ToolCallRequest, handler: Callable[[ToolCallRequest], ToolMessage]) -> ToolMessage:
        return run_tool(by_name, request.tool_call)

    try:
        agent = create_agent(chat_model, tools, system_prompt=system_prompt(as_of),
                             middleware=[within_deadline, guarded_tools])
        # A round is a model step and a tools step; MAX_ROUNDS of them and the closing reply fit in this limit
        # (tests/test_agent.py checks the exact count of model calls).
        agent.invoke({"messages": [HumanMessage(question)]}, {"recursion_limit": 2 * MAX_ROUNDS + 2})
    except AgentError:
        raise
    except GraphRecursionError:
        raise AgentError(f"it was still calling tools after {MAX_ROUNDS} rounds") from None
    except NotImplementedError:
        raise AgentError("the chat model cannot call tools") from None
    except Exception as err:  # any transport or provider failure: the caller falls back to the rules
        raise AgentError(f"{type(err).__name__}: {err}") from err
    return _final_plan(session)


def system_prompt(as_of: dt.date) -> str:
    """The agent's rules, with today's date, the filterable fields and the allowed groupings."""
    return prompt("agent_system").format(
        as_of=as_of.isoformat(), fields=", ".join([*COLUMNS, ATTRIBUTE_PREFIX + "<key>"]),
        group_by=", ".join(GROUP_BY), max_rounds=MAX_ROUNDS)


def ground_filters(filters: list[Filter], vocabulary: Mapping[str, Collection[str]],
                   meaning: ValueNames | None = None) -> tuple[list[Filter], list[str]]:
    """The filters SQL may see, and a note for each one dropped: unknown fields, unstored values, bad values.
    With `meaning`, an unstored category or subcategory value is read as the stored value it clearly
    means ("money laundering" -> aml_alert), with a note, as the deterministic planner does."""
    kept: list[Filter] = []
    notes: list[str] = []
    for proposed in filters:
        grounded = _ground(proposed, vocabulary, meaning, notes)
        if grounded is not None:
            kept.append(grounded)
    return kept, notes


def _ground(f: Filter, vocabulary: Mapping[str, Collection[str]], meaning: ValueNames | None,
            notes: list[str]) -> Filter | None:
    try:
        field_type(f.field)
    except PlanError:
        notes.append(f"dropped the filter {f}: {f.field!r} is not a field that can be filtered on")
        return None
    if f.field in vocabulary and f.op in _CHECKED_OPS:
        stored_only = _stored_only(f, vocabulary[f.field], meaning, notes)
        if stored_only is None:
            return None
        f = stored_only
    try:
        compile_filters([f])
    except PlanError as err:
        notes.append(f"dropped the filter {f}: {err}")
        return None
    return f


def _stored_only(f: Filter, stored: Collection[str], meaning: ValueNames | None,
                 notes: list[str]) -> Filter | None:
    """The filter with its values spelled as stored (or read by meaning), less those not stored
    (None when none is left)."""
    spelled = {value.lower(): value for value in stored}
    values = f.value if isinstance(f.value, list) else [f.value]
    known = [spelled[str(v).lower()] for v in values if str(v).lower() in spelled]
    unknown = [v for v in values if str(v).lower() not in spelled]
    if meaning is not None and unknown:
        still: list[Any] = []
        for v in unknown:
            meant = meaning.match(str(v), f.field, notes)
            if len(meant) == 1:
                notes.append(f"read {f.field} value {str(v)!r} as {meant[0].value} "
                             f"(by meaning, similarity {meant[0].similarity:.2f})")
                known.append(meant[0].value)
            else:
                still.append(v)
        unknown = still
        known = list(dict.fromkeys(known))
    if unknown:
        shown = ", ".join(sorted(stored)[:30])
        notes.append(f"dropped {f.field} value(s) {unknown} from the filter {f}: not stored (stored: {shown})")
    if not known:
        return None
    return Filter(field=f.field, op=f.op, value=known if f.op in _SET_OPS else known[0])


def make_tools(session: AgentSession) -> list[BaseTool]:
    """The agent's tools, bound to one session."""
    return [_search_tool(session), _similar_tool(session), _profile_tool(session), _count_tool(session)]


def _search_tool(session: AgentSession) -> BaseTool:
    @tool
    def search_events(query: str, filters: list[Filter] | None = None) -> str:
        """Search the risk events for `query` (semantic and keyword search) among the events matching
        every filter ({field, op, value}). Returns how many events match, the best-ranked ones, and notes
        on dropped filters. Your last search_events or similar_to call is the search the analyst gets."""
        return run_search(session, query, filters or [], like=None)

    return search_events


def _similar_tool(session: AgentSession) -> BaseTool:
    @tool
    def similar_to(target: str, filters: list[Filter] | None = None) -> str:
        """Find events like a target: an event id such as "#123", or an entity id such as "ACC-1042"
        (the mean of that entity's events). Optional filters as in search_events. Counts as a search."""
        return run_search(session, session.question, filters or [], like=like_target(target))

    return similar_to


def _profile_tool(session: AgentSession) -> BaseTool:
    @tool
    def entity_profile(entity_id: str) -> str:
        """Profile one entity (an account, customer or merchant id such as "ACC-1042"): how many events
        it has, counted by category, severity and month."""
        return json.dumps(profile_entity(session.db, entity_id))

    return entity_profile


def _count_tool(session: AgentSession) -> BaseTool:
    @tool
    def count_events(filters: list[Filter] | None = None, group_by: GroupBy | None = None) -> str:
        """Count the stored events matching every filter ({field, op, value}), in all and, with group_by,
        per value of category, subcategory, severity, status, month (YYYY-MM) or entity_id, largest first."""
        kept, notes = ground_filters(filters or [], session.vocabulary, session.meaning)
        total, groups = count_grouped(session.db, kept, group_by)
        return json.dumps({"matched": total, "groups": [{"value": v, "events": n} for v, n in groups],
                           "filters": [str(f) for f in kept], "notes": notes})

    return count_events


def like_target(target: str) -> LikeTarget:
    """An event id ("#123", "123") or an entity id."""
    value = target.strip()
    if not value or "\x00" in value:
        raise PlanError("similar_to needs an event id such as #123 or an entity id")
    if value.lstrip("#").isdigit():
        return LikeTarget(kind="event", value=value.lstrip("#"))
    return LikeTarget(kind="entity", value=value.upper())


def run_search(session: AgentSession, text: str, filters: list[Filter], like: LikeTarget | None) -> str:
    """Ground the filters, run the search, remember its plan; what the model is shown."""
    kept, notes = ground_filters(filters, session.vocabulary, session.meaning)
    plan = QueryPlan(question=session.question, query=text.strip() or session.question, filters=kept,
                     like=like, k=session.settings.top_k, as_of=session.as_of,
                     notes=["planned by the LLM from its last search", *notes])
    settings = session.settings
    found = retrieve(session.db, session.embedder, plan, limit=LISTED, exact_below=settings.exact_search_below,
                     probes=settings.ivf_probes, max_probes=settings.ivf_max_probes, mode=settings.retrieval_mode,
                     fusion=Fusion.from_settings(settings), work_mem=settings.search_work_mem)
    session.plan = plan
    return json.dumps({"matched": found.matched, "filters": [str(f) for f in kept], "notes": notes,
                       "events": [_shown(h) for h in found.hits]}, default=str)


def _shown(hit: EventHit) -> dict[str, Any]:
    f = hit.fields
    keep = {name: f.get(name) for name in ("category", "subcategory", "severity", "entity_id", "amount",
                                            "currency", "status")}
    title = " ".join(str(f.get("title") or f.get("text") or "").split())[:160]
    # Angle brackets escaped: event text stays data and cannot fake a message boundary.
    title = title.replace("<", "\\u003c").replace(">", "\\u003e")
    return {"id": hit.id, "date": str(f.get("occurred_at", ""))[:10], **keep, "title": title}


def count_grouped(db: Database, filters: list[Filter], group_by: str | None) -> tuple[int, list[tuple[str, int]]]:
    """Events matching the filters, and (with group_by, from the allowlist) their counts per value."""
    if group_by is not None and group_by not in GROUP_BY:
        raise PlanError(f"cannot group by {group_by!r}; allowed: {', '.join(GROUP_BY)}")
    compiled = compile_filters(filters)
    counted = db.execute(sql.SQL(query("count_matching_events")).format(where=compiled.where), compiled.params)
    total = int(counted[0][0]) if counted else 0
    if group_by is None:
        return total, []
    statement = sql.SQL(query("count_events_grouped")).format(where=compiled.where)
    rows = db.execute(statement, {**compiled.params, "group_by": group_by, "limit": MAX_GROUPS})
    return total, [(str(r[0]), int(r[1])) for r in rows]


def profile_entity(db: Database, entity_id: str) -> dict[str, Any]:
    """One entity's events: how many, and counted by category, severity and month."""
    if "\x00" in entity_id:  # PostgreSQL text cannot hold NUL: refused here, not by the database
        raise PlanError(f"no events are stored for entity {entity_id!r}")
    rows = db.fetch_all("select_entity_profile", {"entity_id": entity_id.strip()})
    if not rows:
        raise PlanError(f"no events are stored for entity {entity_id!r}")
    profile: dict[str, Any] = {"entity_id": entity_id.strip(), "events": 0}
    for dimension in ("category", "severity", "month"):
        profile[f"by_{dimension}"] = {r["value"]: int(r["n"]) for r in rows if r["dimension"] == dimension}
    profile["events"] = sum(profile["by_category"].values())
    return profile


def run_tool(tools: Mapping[str, BaseTool], call: ToolCall) -> ToolMessage:
    """Run one tool call; bad arguments and refused values become an error message for the model."""
    name = call["name"]
    chosen = tools.get(name)
    try:
        if chosen is None:
            raise PlanError(f"there is no tool {name!r}; the tools are {', '.join(tools)}")
        content = str(chosen.invoke(call["args"]))
    except ValidationError as err:
        content = f"error: bad arguments for {name}: " + "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
    except (AssistantError, psycopg.DataError) as err:
        content = f"error: {err}"
    return ToolMessage(content=content, tool_call_id=call.get("id") or name, name=name)


def _final_plan(session: AgentSession) -> QueryPlan:
    if session.plan is None:
        raise AgentError("it never ran a search")
    return session.plan
