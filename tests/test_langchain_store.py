"""The LangChain adapter: LangChain's standard vector store suite, filters, and our own model end to end."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from langchain_tests.integration_tests import VectorStoreIntegrationTests

from assistant.db import Database
from assistant.embed import Embedder
from assistant.errors import PlanError
from assistant.langchain import RiskEventStore, translate_filter
from assistant.models import Filter
from assistant.server import EmbeddedServer

from .conftest import new_database_url, settings_for


@pytest.fixture
def fresh_db(server: EmbeddedServer, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database of its own."""
    database = Database.open(settings_for(new_database_url(server), tmp_path))
    yield database
    database.close()


class TestRiskEventStoreStandard(VectorStoreIntegrationTests):
    """LangChain's own integration suite, sync and async (the async side runs the sync methods in threads)."""

    @pytest.fixture
    def vectorstore(self, fresh_db: Database) -> Iterator[RiskEventStore]:
        """An empty store with the suite's fake embeddings."""
        yield RiskEventStore(fresh_db, self.get_embeddings(), model="fake-6")


# The suite's async tests carry no marker; pytest-asyncio (strict mode) runs only marked ones.
for _name, _test in inspect.getmembers(VectorStoreIntegrationTests, inspect.iscoroutinefunction):
    if _name.startswith("test_"):
        setattr(TestRiskEventStoreStandard, _name, pytest.mark.asyncio(_test))


@pytest.fixture
def store(fresh_db: Database) -> RiskEventStore:
    """A store with the suite's fake embeddings, holding three documents."""
    store = RiskEventStore(fresh_db, VectorStoreIntegrationTests.get_embeddings(), model="fake-6")
    store.add_texts(["wire fraud", "card theft", "phishing mail"], [
        {"category": "fraud", "severity": "high", "amount": 900, "channel": "wire", "flagged": True},
        {"category": "fraud", "severity": "low", "amount": 20, "channel": "card"},
        {"category": "cyber", "severity": "medium", "channel": "email", "flagged": False},
    ], ids=["a", "b", "c"])
    return store


def _ids(store: RiskEventStore, filter: dict[str, Any]) -> set[str]:
    return {doc.id or "" for doc in store.similarity_search("anything", k=10, filter=filter)}


def test_filters_translate_to_typed_columns_and_attributes() -> None:
    assert translate_filter({"category": "fraud", "channel": {"$in": ["wire", "card"]}, "flagged": True}) == [
        Filter(field="category", op="eq", value="fraud"),
        Filter(field="attributes.channel", op="in", value=["wire", "card"]),
        Filter(field="attributes.flagged", op="eq", value="true"),
    ]


@pytest.mark.parametrize(("filter", "expected"), [
    ({"category": "fraud"}, {"a", "b"}),
    ({"category": {"$ne": "fraud"}}, {"c"}),
    ({"severity": {"$in": ["high", "medium"]}}, {"a", "c"}),
    ({"category": {"$nin": ["cyber"]}}, {"a", "b"}),
    ({"amount": {"$gte": 100}}, {"a"}),
    ({"amount": {"$lt": 100}}, {"b"}),
    ({"category": "fraud", "channel": "card"}, {"b"}),
    ({"attributes.channel": {"$eq": "email"}}, {"c"}),
    ({"flagged": True}, {"a"}),
])
def test_filters_select_documents(store: RiskEventStore, filter: dict[str, Any], expected: set[str]) -> None:
    assert _ids(store, filter) == expected


@pytest.mark.parametrize("filter", [
    {"Bad-Key": "x"},  # not an identifier the allowlist admits
    {"x') OR TRUE --": 1},  # nor is an injection attempt
    {"attributes.Channel": "wire"},  # attribute keys are lower-case identifiers
    {"$or": [{"category": "fraud"}]},  # logical operators are not supported
    {"category": {"$like": "fr%"}},  # neither is any operator outside the list
    {"amount": {"$gt": "lots"}},  # a typed column checks its value
])
def test_filters_refused(store: RiskEventStore, filter: dict[str, Any]) -> None:
    with pytest.raises(PlanError):
        store.similarity_search("anything", filter=filter)


def test_canonical_metadata_fills_columns_and_round_trips(store: RiskEventStore) -> None:
    [doc] = store.get_by_ids(["a"])
    assert doc.metadata == {"category": "fraud", "severity": "high", "amount": 900, "channel": "wire",
                            "flagged": True}
    row = store.db.execute(
        "SELECT category, severity, amount FROM risk_events WHERE source_id = 'a'")[0]
    assert row is not None and (row[0], row[1], int(row[2])) == ("fraud", "high", 900)


def test_readding_unchanged_documents_keeps_them(store: RiskEventStore) -> None:
    before = store.db.execute("SELECT occurred_at, updated_at FROM risk_events ORDER BY id")
    store.add_texts(["wire fraud"], [{"category": "fraud", "severity": "high", "amount": 900, "channel": "wire",
                                      "flagged": True}], ids=["a"])
    after = store.db.execute("SELECT occurred_at, updated_at FROM risk_events ORDER BY id")
    assert before == after


@pytest.mark.slow
def test_real_model_end_to_end(fresh_db: Database, embedder: Embedder) -> None:
    store = RiskEventStore.for_embedder(fresh_db, embedder)
    store.add_documents([
        Document(page_content="Card skimming device found at an ATM in the branch lobby", id="skim"),
        Document(page_content="Server room flooded after a burst water pipe", id="flood"),
        Document(page_content="Phishing email asked staff to reset their passwords", id="phish"),
    ])
    [(top, score)] = store.similarity_search_with_score("water damage to the data centre", k=1)
    assert top.id == "flood" and 0 < score <= 1
    assert [d.id for d in store.similarity_search("credential theft by email", k=1)] == ["phish"]
    assert fresh_db.fetch_one("select_embedding_model", {"name": embedder.name}) is not None
