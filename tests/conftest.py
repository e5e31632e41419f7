"""Shared fixtures: one real embedded PostgreSQL and one real embedding model per test session."""

from __future__ import annotations

import datetime as dt
import importlib.util
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import psycopg
import pytest

from assistant import vector_index
from assistant.api import RiskAssistant
from assistant.config import Settings
from assistant.db import Database
from assistant.demo import DemoSet, generate_demo
from assistant.embed import Embedder
from assistant.ingest import IngestResult
from assistant.mapping import Mapping
from assistant.resources import resource_dir
from assistant.server import EmbeddedServer

AS_OF = dt.date(2026, 11, 22)
# CI clones the repository with shared/ beside it; the data is read there, never copied in.
CFPB_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "cfpb"
FDA_DIR = CFPB_DIR.parent / "fda_food_recalls"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """The embedded server every test shares; each test gets its own database in it."""
    embedded = EmbeddedServer(tmp_path_factory.mktemp("pg") / "postgres")
    embedded.acquire()
    yield embedded
    embedded.release()


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged all-MiniLM-L6-v2, loaded once."""
    return Embedder.load(Settings())


def new_database_url(server: EmbeddedServer) -> str:
    """Create an empty database in the shared server; its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server.uri(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return server.uri().replace("/postgres?", f"/{name}?")


def settings_for(url: str, tmp_path: Path, **overrides: object) -> Settings:
    """Settings pointing at one test database (DATABASE_URL), with no LLM configured."""
    # llm_agent off: tests of the summary script the chat model's replies for the summary alone;
    # the agent (planning with tool calls) has its own tests in test_agent.py.
    options: dict[str, object] = {"llm_agent": False, **overrides}
    return Settings(database_url=url, data_dir=tmp_path, openai_api_key=None, openai_base_url=None,
                    **options)  # type: ignore[arg-type]


def assistant_in_new_database(server: EmbeddedServer, embedder: Embedder, tmp: Path) -> RiskAssistant:
    """A RiskAssistant over a new, empty database of the shared server (no LLM configured)."""
    settings = settings_for(new_database_url(server), tmp)
    return RiskAssistant(settings, Database.open(settings), embedder)


@contextmanager
def vector_indexed(assistant: RiskAssistant, lists: int) -> Iterator[None]:
    """The assistant's vectors under an IVFFlat index of `lists` lists while the block runs (assistant/
    vector_index.py builds one only past 10,000 vectors: the test sets are smaller), dropped afterwards."""
    model, dimension = assistant.embedder.name, assistant.embedder.dimension
    assert vector_index.maintain(assistant.db, model, dimension, force=True, lists=lists) is not None
    try:
        yield
    finally:
        vector_index.drop(assistant.db, model)


@pytest.fixture
def db_url(server: EmbeddedServer) -> str:
    """A fresh, empty database for one test."""
    return new_database_url(server)


@pytest.fixture
def db(db_url: str, tmp_path: Path) -> Iterator[Database]:
    """A fresh, migrated database for one test."""
    database = Database.open(settings_for(db_url, tmp_path))
    yield database
    database.close()


@pytest.fixture(scope="session")
def demo() -> DemoSet:
    """The demo events and their planted patterns (the ground truth)."""
    return generate_demo()


@pytest.fixture(scope="session")
def demo_assistant(server: EmbeddedServer, embedder: Embedder,
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[RiskAssistant]:
    """A RiskAssistant over a database holding the bundled demo events (loaded once)."""
    assistant = assistant_in_new_database(server, embedder, tmp_path_factory.mktemp("demo"))
    assistant.load_demo()
    yield assistant
    assistant.close()


@dataclass(frozen=True)
class CfpbSet:
    """A database holding the CFPB mixed export, ingested once: the assistant, the first ingest's
    result and its reject report."""

    assistant: RiskAssistant
    first: IngestResult
    rejects: Path
    path: Path


@pytest.fixture(scope="session")
def cfpb(server: EmbeddedServer, embedder: Embedder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CfpbSet]:
    """The real CFPB export (complaints with narratives) in its own database, embedded once per session."""
    tmp = tmp_path_factory.mktemp("cfpb")
    assistant = assistant_in_new_database(server, embedder, tmp)
    path = CFPB_DIR / "complaints_mixed_2015_2020.csv"
    mapping = Mapping.load(resource_dir("mappings") / "cfpb.toml")
    first = assistant.ingest(path, mapping, report_path=tmp / "rejects.csv")
    yield CfpbSet(assistant, first, tmp / "rejects.csv", path)
    assistant.close()


@pytest.fixture(scope="session")
def fda(server: EmbeddedServer, embedder: Embedder,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[RiskAssistant]:
    """The real FDA food recall export (5,453 products) in its own database, embedded once per session."""
    assistant = assistant_in_new_database(server, embedder, tmp_path_factory.mktemp("fda"))
    mapping = Mapping.load(resource_dir("mappings") / "fda_food_recalls.toml")
    assistant.ingest(FDA_DIR / "fda_food_recalls_2022_2026.csv", mapping)
    yield assistant
    assistant.close()


def eval_script(name: str) -> ModuleType:
    """One of the eval/ scripts (not a package), imported from its file."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parents[1] / "eval" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
