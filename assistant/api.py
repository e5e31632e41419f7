"""The Python API: `RiskAssistant.from_env().ask(question)` returns a typed Answer."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel

from assistant import pipeline, registry
from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder
from assistant.ingest import IngestResult, Progress, ingest_file
from assistant.llm import make_chat_model
from assistant.mapping import Mapping
from assistant.models import Answer, Mode, QueryPlan
from assistant.resources import resource_dir

if TYPE_CHECKING:
    from assistant.conversation import Conversation


class RiskAssistant:
    """A database, an embedding model and (optionally) a chat model, ready to answer."""

    def __init__(self, settings: Settings, db: Database, embedder: Embedder,
                 chat_model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.db = db
        self.embedder = embedder
        self.chat_model = chat_model
        db.ensure_embedding_model(embedder.name, embedder.dimension)
        registry.ensure_filled(db)

    @classmethod
    def from_env(cls, settings: Settings | None = None) -> RiskAssistant:
        """Read settings from the environment, open (or start) the database, load the model."""
        settings = settings or Settings()
        return cls(settings, Database.open(settings), Embedder.load(settings), make_chat_model(settings))

    @property
    def mode(self) -> Mode:
        """"llm" when a chat model is configured, else "offline"."""
        return "offline" if self.chat_model is None else "llm"

    def ask(self, question: str, *, as_of: dt.date | None = None,
            plan: QueryPlan | None = None, exact: bool = True) -> Answer:
        """Answer a question (or run a given plan) with cited events. A given plan runs exactly as it
        is (an analyst's edit); `exact=False` lets an empty one be relaxed like a plan made here."""
        return pipeline.answer(question, db=self.db, embedder=self.embedder, settings=self.settings,
                               chat_model=self.chat_model, as_of=as_of, plan=plan,
                               use_agent=self.settings.llm_agent, relax=plan is None or not exact)

    def conversation(self) -> Conversation:
        """A thread of questions in which follow-ups refine the previous plan."""
        from assistant.conversation import Conversation

        return Conversation(self)

    def plan(self, question: str, *, as_of: dt.date | None = None) -> QueryPlan:
        """The plan a question would run, without running it."""
        return pipeline.plan_question(self.db, question, as_of=as_of, k=self.settings.top_k,
                                      fiscal_year_start_month=self.settings.fiscal_year_start_month,
                                      embedder=self.embedder, thresholds=self.settings.thresholds)

    def ingest(self, path: Path, mapping: Mapping | None = None, *, report_path: Path | None = None,
               progress: Progress | None = None) -> IngestResult:
        """Load a CSV, JSON Lines or Parquet file of events."""
        return ingest_file(self.db, self.embedder, path, mapping or Mapping.identity(path.stem),
                           batch_size=self.settings.ingest_batch_size,
                           embed_batch_size=self.settings.embedding_batch_size,
                           report_path=report_path, progress=progress)

    def load_demo(self, progress: Progress | None = None) -> IngestResult:
        """Load the bundled synthetic demo events."""
        from assistant.demo import bundled_demo_path

        mapping = Mapping.load(resource_dir("mappings") / "demo.toml")
        return self.ingest(bundled_demo_path(), mapping, progress=progress)

    def count_events(self) -> int:
        """How many events are stored."""
        row = self.db.fetch_one("count_events")
        return int(row["n"]) if row else 0

    def close(self) -> None:
        """Close the database connection (and give up the embedded server if unused)."""
        self.db.close()
