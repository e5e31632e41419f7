"""Themes and anomalies over the evidence: planted patterns found as themes, determinism, unusual events."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import numpy as np
import pytest

from assistant.anomalies import find_anomalies, outliers
from assistant.api import RiskAssistant
from assistant.demo import DemoSet
from assistant.embed import Embedder
from assistant.models import EventHit, QueryPlan, ThemeSet
from assistant.retrieve import Fusion, retrieve
from assistant.server import EmbeddedServer
from assistant.themes import MIN_EVIDENCE, distinctive_terms, dominant_values, evidence_vectors, find_themes

from .conftest import AS_OF, assistant_in_new_database

PLANTED = ("cnp_burst_q4_2025", "structuring_2026_03", "credit_drops_2026_q2")


def evidence(assistant: RiskAssistant, plan: QueryPlan) -> tuple[list[int], np.ndarray, list[EventHit]]:
    """The evidence exactly as the product takes it: the settings' size, search mode and fusion."""
    settings = assistant.settings
    hits = retrieve(assistant.db, assistant.embedder, plan, limit=settings.evidence_size,
                    exact_below=settings.exact_search_below, mode=settings.retrieval_mode,
                    fusion=Fusion.from_settings(settings)).hits
    ids = [hit.id for hit in hits]
    return ids, evidence_vectors(assistant.db, assistant.embedder.name, ids), hits


@pytest.mark.parametrize("name", PLANTED)
def test_a_planted_pattern_is_mostly_one_theme(demo_assistant: RiskAssistant, demo: DemoSet, name: str) -> None:
    pattern = demo.planted[name]
    ids, vectors, hits = evidence(demo_assistant, demo_assistant.plan(pattern.question, as_of=AS_OF))
    planted = {hit.id for hit in hits if hit.fields["source_id"] in pattern.source_ids}
    assert len(planted) >= MIN_EVIDENCE, f"the evidence holds only {len(planted)} planted events"
    themes = find_themes(ids, vectors, hits)
    assert themes.method != "none"
    best = max(themes.themes, key=lambda t: len(planted & set(t.event_ids)))
    held = len(planted & set(best.event_ids))
    share, purity, base = held / len(planted), held / best.size, len(planted) / len(ids)
    summary = (f"{name}: theme {best.id} '{best.label}' holds {held} of the {len(planted)} planted events in "
               f"the evidence ({share:.0%}); it is {purity:.0%} planted, the evidence {base:.0%}")
    print(summary)
    assert share > 0.5, summary
    # A theme swallowing the whole evidence would hold most of the pattern too: it must be purer than that.
    assert purity > base or base == 1.0, summary


def test_themes_describe_the_evidence_consistently(demo_assistant: RiskAssistant, demo: DemoSet) -> None:
    pattern = demo.planted["cnp_burst_q4_2025"]
    ids, vectors, hits = evidence(demo_assistant, demo_assistant.plan(pattern.question, as_of=AS_OF))
    themes = find_themes(ids, vectors, hits)
    assigned = [i for theme in themes.themes for i in theme.event_ids]
    assert len(assigned) == len(set(assigned)) and set(assigned) <= set(ids)
    assert len(assigned) + themes.unassigned == len(ids)
    assert [t.id for t in themes.themes] == list(range(1, len(themes.themes) + 1))
    assert [t.size for t in themes.themes] == sorted((t.size for t in themes.themes), reverse=True)
    fields = {hit.id: hit.fields for hit in hits}
    for theme in themes.themes:
        assert theme.size == len(theme.event_ids) and theme.share == pytest.approx(theme.size / len(ids), abs=1e-4)
        assert 1 <= len(theme.representative_ids) <= 3 and set(theme.representative_ids) <= set(theme.event_ids)
        assert theme.terms and theme.label == " / ".join(theme.terms[:3])
        assert not any(term.isdigit() or term in ("acc", "mer", "evt") for term in theme.terms)
        for count in theme.dominant:  # held by at least half of the theme, and by exactly the events listed
            field, value = count.value.split(" = ", 1)
            assert count.count == len(count.event_ids) >= theme.size / 2
            assert all(_holds(fields[i], field, value) for i in count.event_ids)


def _holds(fields: dict[str, object], field: str, value: str) -> bool:
    if field == "entity":
        return value.startswith(str(fields["entity_id"]))
    if field in fields:
        return str(fields[field]) == value
    attributes = fields["attributes"]
    assert isinstance(attributes, dict)
    return str(attributes.get(field)) == value


def test_the_same_input_gives_the_same_themes(demo_assistant: RiskAssistant, demo: DemoSet) -> None:
    pattern = demo.planted["credit_drops_2026_q2"]
    ids, vectors, hits = evidence(demo_assistant, demo_assistant.plan(pattern.question, as_of=AS_OF))
    first = find_themes(ids, vectors, hits)
    again = find_themes(list(ids), vectors.copy(), list(hits))
    assert first.model_dump() == again.model_dump()


def test_kmeans_takes_over_when_there_is_no_density_structure() -> None:
    # Directions drawn uniformly on the sphere have no dense groups: HDBSCAN calls most of them noise.
    vectors = np.random.default_rng(7).normal(size=(60, 32))
    ids = list(range(1, 61))
    hits = [EventHit(id=i, score=1.0, fields={"title": f"event {i}", "text": "a text"}) for i in ids]
    first, again = find_themes(ids, vectors, hits, seed=3), find_themes(ids, vectors.copy(), hits, seed=3)
    assert first.method == "kmeans" and len(first.themes) >= 2 and first.unassigned == 0
    assert first.model_dump() == again.model_dump()


def test_too_little_evidence_has_no_themes() -> None:
    vectors = np.eye(MIN_EVIDENCE - 1, 8)
    ids = list(range(MIN_EVIDENCE - 1))
    assert find_themes(ids, vectors, []) == ThemeSet(method="none")


def test_theme_terms_are_distinctive_words_not_numbers_or_ids() -> None:
    documents = ["Wire of 9,800.00 from ACC-1234 to ACC-5678; wire flagged, wire returned",
                 "Login from a new device for ACC-1234; password reset after the login",
                 "Wire and login and password"]
    terms = distinctive_terms(documents, top=3)
    assert terms[0][0] == "wire" and terms[1][0] == "login"
    assert not any(t == "acc" or t.isdigit() for row in terms for t in row)


def test_dominant_values_are_those_held_by_half_the_theme() -> None:
    fields = [{"category": "aml", "severity": "high", "attributes": {"channel": "atm"}},
              {"category": "aml", "severity": "low", "attributes": {"channel": "atm"}},
              {"category": "aml", "severity": "low", "attributes": {"channel": "branch"}},
              {"category": "fraud", "severity": "medium", "attributes": {}}]
    found = {c.value: c.event_ids for c in dominant_values([1, 2, 3, 4], fields)}
    assert found == {"category = aml": [1, 2, 3], "severity = low": [2, 3], "channel = atm": [1, 2]}


def test_an_event_unlike_every_theme_is_an_outlier() -> None:
    rng = np.random.default_rng(11)
    centres = rng.normal(size=(3, 48))
    vectors = np.vstack([centre + rng.normal(scale=0.15, size=(20, 48)) for centre in centres]
                        + [rng.normal(size=(1, 48))])
    ids = list(range(100, 161))
    hits = [EventHit(id=i, score=1.0, fields={"title": "t", "text": f"group {(i - 100) // 20}"}) for i in ids]
    themes = find_themes(ids, vectors, hits)
    assert len(themes.themes) == 3 and 160 not in {i for t in themes.themes for i in t.event_ids}
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    found = outliers(ids, unit, themes)
    assert [a.event_id for a in found] == [160]
    assert found[0].kind == "outlier" and found[0].score >= 3.5
    assert found[0].reason.startswith("far from every theme: nearest is theme ")


def _event(n: int, entity: str, at: dt.datetime, amount: float, text: str) -> dict[str, object]:
    return {"source_id": f"T-{n:03d}", "occurred_at": at.isoformat(), "category": "card_payment",
            "entity_id": entity, "amount": amount, "currency": "USD", "text": text}


@pytest.fixture(scope="module")
def small_history(server: EmbeddedServer, embedder: Embedder,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[RiskAssistant]:
    """A database with three entities: small steady amounts and one large one; daily events and one
    two minutes after the previous; varied amounts at a steady pace (nothing unusual)."""
    tmp = tmp_path_factory.mktemp("history")
    start = dt.datetime(2026, 1, 5, 12, tzinfo=dt.UTC)
    rows = [_event(n, "ACC-SMALL", start + dt.timedelta(days=7 * n), 100 + 4 * n, f"Card payment number {n}")
            for n in range(12)]
    rows.append(_event(12, "ACC-SMALL", start + dt.timedelta(days=90), 9800.0, "Card payment, large"))
    rows += [_event(20 + n, "ACC-PACE", start + dt.timedelta(days=3 * n, hours=n % 4), 50.0 + n,
                    f"Online card purchase {n}") for n in range(10)]
    rows.append(_event(30, "ACC-PACE", start + dt.timedelta(days=27, hours=1, minutes=2), 55.0, "Online card purchase"))
    rows += [_event(40 + n, "ACC-VARIED", start + dt.timedelta(days=5 * n), [20, 400, 75, 1200, 60, 310, 90][n],
                    f"Card payment at a store {n}") for n in range(7)]
    path = tmp / "history.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows), encoding="utf-8")
    assistant = assistant_in_new_database(server, embedder, tmp)
    assistant.ingest(path)
    yield assistant
    assistant.close()


def _stored_id(hits: list[EventHit], source_id: str) -> int:
    return next(hit.id for hit in hits if hit.fields["source_id"] == source_id)


def test_an_amount_unusual_for_its_entity_is_flagged(small_history: RiskAssistant) -> None:
    plan = QueryPlan(question="card payments", query="card payments", as_of=AS_OF)
    ids, vectors, hits = evidence(small_history, plan)
    assert len(ids) == 31
    found = find_anomalies(small_history.db, ids, vectors, hits, find_themes(ids, vectors, hits))
    amounts = [a for a in found if a.kind == "amount"]
    assert [a.event_id for a in amounts] == [_stored_id(hits, "T-012")]
    assert amounts[0].score >= 3.5
    assert amounts[0].reason.startswith("amount 9,800.00 USD is ")
    assert "robust z above ACC-SMALL's median of 122.00 USD over 12 other events (80.3 times the median)" \
        in amounts[0].reason
    assert [a.score for a in found] == sorted((a.score for a in found), reverse=True)


def test_an_event_soon_after_the_previous_one_is_flagged(small_history: RiskAssistant) -> None:
    plan = QueryPlan(question="card payments", query="online card purchase", as_of=AS_OF)
    ids, vectors, hits = evidence(small_history, plan)
    found = find_anomalies(small_history.db, ids, vectors, hits, find_themes(ids, vectors, hits))
    timing = [a for a in found if a.kind == "timing"]
    assert [a.event_id for a in timing] == [_stored_id(hits, "T-030")]
    assert timing[0].reason.startswith("came 2.0 minutes after ACC-PACE's previous event")
