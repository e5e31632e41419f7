"""Row-level security per analyst: PostgreSQL's policies, not the app, keep every analyst inside their scopes.

The demo events are loaded with their region as the scope (six scopes). Analysts with one, two or every
scope ask the evaluation questions, run plans and call the agent's tools; every event id, count and value
that comes back is checked, over the admin login (which the policies do not bind), to lie in their scopes.
"""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr
import psycopg
import pytest
from psycopg import sql

from assistant import registry
from assistant.agent import AgentSession, make_tools
from assistant.analysts import Analyst, add_analyst, front_analyst, list_analysts, scopes_of
from assistant.api import RiskAssistant
from assistant.db import APP_ROLE
from assistant.demo import bundled_demo_path
from assistant.embed import Embedder
from assistant.errors import AssistantError, ConfigError, InputError
from assistant.filters import compile_filters
from assistant.mapping import Mapping
from assistant.models import Answer
from assistant.record import load_answer_record
from assistant.resources import query
from assistant.server import EmbeddedServer
from assistant.ui.app import parse_logins
from assistant.ui.handlers import Handlers
from assistant.ui.layout import build_view

from .conftest import AS_OF, assistant_in_new_database

ANALYSTS = {"eu": ("EU",), "west": ("US-West",), "pair": ("UK", "APAC"), "east": ("US-East",)}
EVAL = Path(__file__).resolve().parents[1] / "eval"
QUESTIONS = [json.loads(line)["question"]  # the demo's evaluation questions, dev split
             for line in (EVAL / "planner_demo.jsonl").read_text().splitlines() if line.strip()]
CHECKS: dict[str, int] = {}  # what was checked, counted; printed at the end of the module


def count(kind: str, n: int = 1) -> None:
    CHECKS[kind] = CHECKS.get(kind, 0) + n


@pytest.fixture(scope="module")
def regional(server: EmbeddedServer, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[RiskAssistant]:
    """Every third demo event, scoped by its region, and four analysts besides the local one."""
    tmp = tmp_path_factory.mktemp("regional")
    with gzip.open(bundled_demo_path(), "rt") as rows:
        kept = [line for n, line in enumerate(rows) if n % 3 == 0]
    path = tmp / "regional.jsonl"
    path.write_text("".join(kept))
    assistant = assistant_in_new_database(server, embedder, tmp)
    assistant.ingest(path, Mapping(source="demo", fields={"scope": "region"}))
    for name, scopes in ANALYSTS.items():
        add_analyst(assistant.db, Analyst(name, scopes, slack_user=f"U{name.upper()}", ui_login=f"{name}@bank"))
    yield assistant
    print(f"\nscope checks run: {sum(CHECKS.values())} {dict(sorted(CHECKS.items()))}")
    assistant.close()


def admin_rows(assistant: RiskAssistant, statement: str | sql.Composed, params: Any = None) -> list[tuple[Any, ...]]:
    """Rows read over the admin login, which no policy binds: the ground truth."""
    with assistant.db.admin_connection() as conn:
        return conn.execute(statement, params).fetchall()


def scopes_of_ids(assistant: RiskAssistant, ids: list[int]) -> set[str]:
    rows = admin_rows(assistant, "SELECT DISTINCT scope FROM risk_events WHERE id = ANY(%s)", (ids,))
    return {r[0] for r in rows}


def scoped_count(assistant: RiskAssistant, answer: Answer, scopes: tuple[str, ...]) -> int:
    compiled = compile_filters(answer.plan.filters)
    statement = sql.SQL("SELECT count(*) FROM risk_events ev WHERE {where} AND ev.scope = ANY({scopes})").format(
        where=compiled.where, scopes=sql.Placeholder("_scopes"))
    return int(admin_rows(assistant, statement, {**compiled.params, "_scopes": list(scopes)})[0][0])


def check_answer(assistant: RiskAssistant, answer: Answer, scopes: tuple[str, ...]) -> None:
    """Every id the answer shows or cites, its count and its filter values lie in the scopes."""
    ids = [*answer.evidence_ids, *answer.citations, *(h.id for h in answer.events),
           *(a.event_id for a in answer.anomalies)]
    assert scopes_of_ids(assistant, ids) <= set(scopes), answer.question
    count("event ids", len(ids))
    assert answer.facts.matched == scoped_count(assistant, answer, scopes), answer.question
    count("counts")
    for breakdown in answer.facts.breakdowns:
        if breakdown.scope == "matched" and breakdown.dimension == "category":
            in_scope = dict(admin_rows(assistant, "SELECT category, count(*) FROM risk_events "
                                       "WHERE scope = ANY(%s) GROUP BY category", (list(scopes),)))
            assert all(c.count <= in_scope.get(c.value, 0) for c in breakdown.counts), breakdown
            count("breakdown values", len(breakdown.counts))
    for f in answer.plan.filters:
        if (f.op in ("eq", "in") and f.field in ("entity_name", "status")) or f.field.startswith("attributes."):
            values = f.value if isinstance(f.value, list) else [f.value]
            assert all(stored_in(assistant, f.field, str(v), scopes) for v in values), (answer.question, f)
            count("plan values", len(values))


def stored_in(assistant: RiskAssistant, field: str, value: str, scopes: tuple[str, ...]) -> bool:
    column = (sql.SQL("attributes ->> {}").format(sql.Literal(field.removeprefix("attributes.")))
              if field.startswith("attributes.") else sql.Identifier(field))
    statement = sql.SQL("SELECT EXISTS (SELECT 1 FROM risk_events WHERE {col}::text = %s AND scope = ANY(%s))")
    return bool(admin_rows(assistant, statement.format(col=column), (value, list(scopes)))[0][0])


def only_in(assistant: RiskAssistant, field: str, scope: str) -> str:
    """A value of an attribute stored in one scope and no other (the suggestion a leak would make)."""
    key = field.removeprefix("attributes.")
    rows = admin_rows(assistant, "SELECT attributes ->> %s FROM risk_events WHERE length(attributes ->> %s) >= 6 "
                      "GROUP BY 1 HAVING bool_and(scope = %s) ORDER BY count(*) DESC LIMIT 1", (key, key, scope))
    assert rows, f"the demo has no {field} only in {scope}"
    return str(rows[0][0])


def test_the_app_logs_in_as_a_role_the_policies_bind(regional: RiskAssistant) -> None:
    user, skips = regional.db.execute(query("select_role_skips_policies").replace(
        "SELECT rolsuper OR rolbypassrls", "SELECT current_user, rolsuper OR rolbypassrls"))[0]
    assert (user, skips) == (APP_ROLE, False)
    forced = admin_rows(regional, "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity "
                        "AND relname = ANY(%s)", (["risk_events", "event_embeddings", "field_values", "answers",
                                                   "feedback", "subcategory_parents", "numeric_fields"],))
    assert len(forced) == 7


def test_each_scope_sees_its_own_events_and_nothing_else(regional: RiskAssistant) -> None:
    by_scope = dict(admin_rows(regional, "SELECT scope, count(*) FROM risk_events GROUP BY scope"))
    assert len(by_scope) == 6
    for name, scopes in ANALYSTS.items():
        db = regional.db_for(name)
        assert db.execute("SELECT count(*) FROM risk_events")[0][0] == sum(by_scope[s] for s in scopes)
        assert db.execute("SELECT count(*) FROM event_embeddings")[0][0] == sum(by_scope[s] for s in scopes)
        assert {r[0] for r in db.execute("SELECT DISTINCT scope FROM field_values")} == set(scopes)
        count("table counts", 3)
    assert regional.db_for("local").execute("SELECT count(*) FROM risk_events")[0][0] == sum(by_scope.values())


def test_random_analysts_and_questions_stay_in_their_scopes(regional: RiskAssistant) -> None:
    rng = random.Random(11)
    for _ in range(24):
        name = rng.choice(list(ANALYSTS))
        answer = regional.ask(rng.choice(QUESTIONS), as_of=AS_OF, analyst=name)
        check_answer(regional, answer, ANALYSTS[name])
        count("answers")
    assert CHECKS["answers"] >= 24 and CHECKS["event ids"] > 100


def test_a_value_stored_only_in_another_scope_is_never_suggested(regional: RiskAssistant) -> None:
    merchant = only_in(regional, "attributes.merchant_name", "EU")
    eu, west = regional.db_for("eu"), regional.db_for("west")
    assert merchant in registry.stored_values(eu, ["attributes.merchant_name"])["attributes.merchant_name"]
    assert merchant not in registry.stored_values(west, ["attributes.merchant_name"])["attributes.merchant_name"]
    assert merchant in {m.value for m in registry.values_in_text(eu, f"fraud at {merchant}")}
    assert merchant not in {m.value for m in registry.values_in_text(west, f"fraud at {merchant}")}
    asked = f"fraud alerts at {merchant}"
    assert any(merchant in json.dumps(f.value) for f in regional.plan(asked, as_of=AS_OF, analyst="eu").filters)
    west_plan = regional.plan(asked, as_of=AS_OF, analyst="west")
    assert not any(merchant in json.dumps(f.value) for f in west_plan.filters)  # never confirmed
    check_answer(regional, regional.ask(asked, as_of=AS_OF, analyst="west"), ANALYSTS["west"])
    count("suggestions", 6)


def test_like_an_event_or_entity_of_another_scope_finds_nothing_of_it(regional: RiskAssistant) -> None:
    event_id, entity = admin_rows(regional, "SELECT id, entity_id FROM risk_events WHERE scope = 'EU' "
                                  "AND entity_id IS NOT NULL ORDER BY id LIMIT 1")[0]
    for question in (f"events like #{event_id}", f"events like {entity}"):
        try:
            answer = regional.ask(question, as_of=AS_OF, analyst="west")
        except AssistantError:
            count("like refused")
            continue
        assert answer.plan.like is None or not answer.events, question
        check_answer(regional, answer, ANALYSTS["west"])
        count("like answers")
    own = regional.ask(f"events like #{event_id}", as_of=AS_OF, analyst="eu")  # the positive control
    assert own.plan.like is not None and own.events
    check_answer(regional, own, ANALYSTS["eu"])


def test_the_agents_tools_stay_in_scope_whatever_they_are_asked(regional: RiskAssistant, embedder: Embedder) -> None:
    merchant = only_in(regional, "attributes.merchant_name", "EU")
    eu_event, eu_entity = admin_rows(regional, "SELECT id, entity_id FROM risk_events WHERE scope = 'EU' "
                                     "AND entity_id IS NOT NULL ORDER BY id LIMIT 1")[0]
    rng = random.Random(5)
    calls: list[tuple[str, dict[str, Any]]] = [
        ("search_events", {"query": "card fraud", "filters": [{"field": "attributes.merchant_name", "op": "eq",
                                                                "value": merchant}]}),
        ("search_events", {"query": rng.choice(QUESTIONS)}),
        ("count_events", {"group_by": "entity_id"}),
        ("count_events", {"filters": [{"field": "category", "op": "eq", "value": "aml_alert"}], "group_by": "month"}),
        ("similar_to", {"target": f"#{eu_event}"}),
        ("similar_to", {"target": eu_entity}),
        ("entity_profile", {"entity_id": eu_entity}),
    ]
    for name in ("west", "pair", "east"):
        db = regional.db_for(name)
        stored = registry.stored_values(db, ["category", "subcategory", "severity", "status", "currency",
                                             "entity_name", "attributes.merchant_name"])
        session = AgentSession(db, embedder, regional.settings, "fraud", AS_OF, stored)
        tools = {t.name: t for t in make_tools(session)}
        for tool_name, args in calls:
            try:
                reply = json.loads(tools[tool_name].invoke(args))
            except AssistantError:
                count("tool calls refused")
                continue
            ids = [e["id"] for e in reply.get("events", [])]
            assert scopes_of_ids(regional, ids) <= set(ANALYSTS[name]), (name, tool_name)
            groups = [g["value"] for g in reply.get("groups", [])]
            if args.get("group_by") == "entity_id" and groups:
                entity_scopes = admin_rows(regional, "SELECT DISTINCT scope FROM risk_events WHERE entity_id = ANY(%s)",
                                           (groups,))
                assert {r[0] for r in entity_scopes} <= set(ANALYSTS[name])
            if "matched" in reply:
                assert reply["matched"] <= db.execute("SELECT count(*) FROM risk_events")[0][0]
            shown = {k: v for k, v in reply.items() if k != "notes"}  # a note may quote the caller's own argument
            assert merchant not in json.dumps(shown), (name, tool_name)
            count("tool calls", 1)
            count("event ids", len(ids))


def test_an_unknown_analyst_sees_nothing(regional: RiskAssistant) -> None:
    assert scopes_of(regional.db, "stranger") == ()
    db = regional.db_for("stranger")
    assert db.execute("SELECT count(*) FROM risk_events")[0][0] == 0
    assert registry.stored_values(db, ["category"]) == {"category": []}
    answer = regional.ask("high severity AML alerts in 2026", as_of=AS_OF, analyst="stranger")
    assert answer.facts.matched == 0 and not answer.events and not answer.evidence_ids
    count("unknown analyst", 4)


def test_slack_users_and_ui_logins_map_to_their_analysts(regional: RiskAssistant) -> None:
    assert front_analyst(regional.db, "slack", "UEU") == "eu"
    assert front_analyst(regional.db, "ui", "west@bank") == "west"
    assert front_analyst(regional.db, "slack", "UNOBODY") == "UNOBODY"
    assert scopes_of(regional.db, "UNOBODY") == ()  # analysts are set up: an unmapped user sees nothing
    assert [a.name for a in list_analysts(regional.db)] == ["east", "eu", "local", "pair", "west"]


def test_answers_are_append_only_for_the_app_and_readable_within_scope(regional: RiskAssistant) -> None:
    everyone = regional.ask("high severity AML alerts in 2026", as_of=AS_OF)  # local: every scope
    mine = regional.ask("high severity AML alerts in 2026", as_of=AS_OF, analyst="eu")
    assert load_answer_record(regional.db_for("eu"), everyone.id) is None  # drew on scopes eu lacks
    assert load_answer_record(regional.db_for("eu"), mine.id) is not None
    assert load_answer_record(regional.db_for("west"), mine.id) is None
    assert load_answer_record(regional.db, mine.id)["scopes"] == ["EU"]  # type: ignore[index]
    for statement in ("UPDATE answers SET summary = 'rewritten'", "DELETE FROM answers",
                      "UPDATE feedback SET rating = 'up'", "DELETE FROM feedback", "TRUNCATE answers"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            regional.db.execute(statement)
        count("refused writes")
    with pytest.raises(InputError, match="no recorded answer"):
        regional.record_feedback(everyone.id, "up", analyst="eu")


def test_a_ui_login_sees_its_analysts_scopes_only(regional: RiskAssistant) -> None:
    with gr.Blocks():
        view = build_view()
    handlers = Handlers(regional, view)
    eu_event = admin_rows(regional, "SELECT min(id) FROM risk_events WHERE scope = 'EU'")[0][0]
    eu, west, stranger = (gr.Request(username=login) for login in ("eu@bank", "west@bank", "nobody@bank"))
    assert f"#{eu_event}" in handlers.open_event(eu_event, eu)[view.event]
    assert f"No event has id {eu_event}" in handlers.open_event(eu_event, west)[view.event]
    assert f"No event has id {eu_event}" in handlers.open_event(eu_event, stranger)[view.event]
    by_scope = dict(admin_rows(regional, "SELECT scope, count(*) FROM risk_events GROUP BY scope"))
    assert f"**{by_scope['US-West']:,}** events loaded" in handlers.status(handlers._db(west))
    assert parse_logins("eu@bank:s3cret, west@bank:pw:with:colons") == [("eu@bank", "s3cret"),
                                                                         ("west@bank", "pw:with:colons")]
    with pytest.raises(ConfigError, match="entry 2") as refused:
        parse_logins("eu@bank:s3cret,west@bank")
    assert "s3cret" not in str(refused.value)
    count("ui logins", 4)


def test_analysts_are_checked_before_they_are_stored(regional: RiskAssistant) -> None:
    for bad in (Analyst("a,b", ("EU",)), Analyst("x", ()), Analyst("x", ("EU,UK",)), Analyst("x", ("a b",))):
        with pytest.raises(InputError):
            add_analyst(regional.db, bad)
    assert "x" not in {a.name for a in list_analysts(regional.db)}


def test_the_scope_setting_is_bound_never_spliced(regional: RiskAssistant) -> None:
    hostile = regional.db.scoped(["EU' OR true --", "*x"])
    assert hostile.execute("SELECT count(*) FROM risk_events")[0][0] == 0


def test_keyword_search_keeps_its_index_under_the_policies(regional: RiskAssistant) -> None:
    """A policy makes PostgreSQL put non-LEAKPROOF conditions after it, off the index: ts_match_vq is marked."""
    with regional.db_for("eu").connection() as conn:
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT id FROM risk_events ev WHERE ev.search_tsv @@ websearch_to_tsquery('english', 'wire')"))
    assert "risk_events_search_idx" in plan, plan


def test_a_database_from_before_scopes_keeps_working(tmp_path: Path, server: EmbeddedServer,
                                                     embedder: Embedder) -> None:
    assistant = assistant_in_new_database(server, embedder, tmp_path)
    try:
        assert [a.name for a in list_analysts(assistant.db)] == ["local"]
        assert scopes_of(assistant.db, "anyone") == ("*",)  # no set-up: everyone is the local analyst
    finally:
        assistant.close()
