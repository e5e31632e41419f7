"""The Python API: `RiskAssistant.from_env().ask(question)` returns a typed Answer."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.language_models import BaseChatModel

from assistant import pipeline, registry, vector_index
from assistant.analysts import LOCAL, scopes_of
from assistant.config import Settings
from assistant.db import Database
from assistant.embed import Embedder
from assistant.ingest import IngestResult, Progress, ingest_file
from assistant.llm import make_chat_model
from assistant.mapping import Mapping
from assistant.models import (
    Answer,
    AnswerEvent,
    AnswerRequest,
    Feedback,
    FeedbackSource,
    Mode,
    PlanEvent,
    QueryPlan,
    Rating,
    StreamEvent,
    SummaryDelta,
)
from assistant.planning import plan_request
from assistant.resources import resource_dir

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pandas as pd

    from assistant.batch import BatchQuestion, BatchResult
    from assistant.conversation import Conversation


class AnswerStream:
    """An answer being made (the shape of simonw/llm's Response): iterate for its typed stages, from the
    plan to the final AnswerEvent, or call .answer() to run it to the end."""

    def __init__(self, events: Iterator[StreamEvent]) -> None:
        self._events = events
        self._answer: Answer | None = None
        self.on_plan: Callable[[QueryPlan], None] | None = None  # a conversation remembers the plan here

    def __iter__(self) -> Iterator[StreamEvent]:
        for event in self._events:
            if isinstance(event, PlanEvent) and self.on_plan is not None:
                self.on_plan(event.plan)
            if isinstance(event, AnswerEvent):
                self._answer = event.answer
            yield event

    def text(self) -> Iterator[str]:
        """The summary as it is written (the final Answer holds the checked text)."""
        for event in self:
            if isinstance(event, SummaryDelta):
                yield event.text

    def answer(self) -> Answer:
        """The final answer, running whatever stages are left."""
        for _ in self:
            pass
        if self._answer is None:
            raise AssertionError("the answer stream ended without an answer")  # the pipeline always ends with one
        return self._answer


class RiskAssistant:
    """A database, an embedding model and (optionally) a chat model, ready to answer."""

    def __init__(self, settings: Settings, db: Database, embedder: Embedder,
                 chat_model: BaseChatModel | None = None) -> None:
        self.settings = settings
        self.db = db
        self.embedder = embedder
        self.chat_model = chat_model
        db.ensure_embedding_model(embedder.name, embedder.dimension)
        # A database whose vectors outgrew (or, after an upgrade, lost) their index gets it now.
        if vector_index.maintain(db, embedder.name, embedder.dimension, quick=True) is None:
            vector_index.prewarm(db, embedder.name)  # a build preloads its index; a restart empties the buffers
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

    def ask_stream(self, question: str, *, as_of: dt.date | None = None, plan: QueryPlan | None = None,
                   exact: bool = True, previous: QueryPlan | None = None, analyst: str = LOCAL) -> AnswerStream:
        """Start answering: iterate the result for its stages, or call .answer() for the whole.
        A given plan runs exactly as it is (an analyst's edit; `exact=False` lets an empty one be relaxed
        like a plan made here); `previous` is the conversation's last plan, which a follow-up refines."""
        request = AnswerRequest(question=question, analyst=analyst, as_of=as_of, plan=plan, exact=exact,
                                previous=previous)
        return AnswerStream(pipeline.answer_stream(request, db=self.db_for(analyst), embedder=self.embedder,
                                                   settings=self.settings, chat_model=self.chat_model))

    def ask(self, question: str, *, as_of: dt.date | None = None, plan: QueryPlan | None = None,
            exact: bool = True, previous: QueryPlan | None = None, analyst: str = LOCAL) -> Answer:
        """Answer a question (or run a given plan) with a checked, cited, recorded Answer."""
        return self.ask_stream(question, as_of=as_of, plan=plan, exact=exact, previous=previous,
                               analyst=analyst).answer()

    def ask_batch(self, questions: Iterable[BatchQuestion], *, concurrency: int = 4, as_of: dt.date | None = None,
                  analyst: str = LOCAL) -> list[BatchResult]:
        """Answer many questions on `concurrency` threads: one result per question, in input order; a question
        that fails is a result with an error, and the others still run (assistant/batch.py)."""
        from assistant.batch import ask_batch

        return ask_batch(self, questions, concurrency=concurrency, as_of=as_of, analyst=analyst)

    async def ask_batch_async(self, questions: Iterable[BatchQuestion], *, concurrency: int = 4,
                              as_of: dt.date | None = None, analyst: str = LOCAL) -> list[BatchResult]:
        """ask_batch under asyncio: the same answers, without blocking the event loop."""
        from assistant.batch import ask_batch_async

        return await ask_batch_async(self, questions, concurrency=concurrency, as_of=as_of, analyst=analyst)

    def ask_frame(self, frame: pd.DataFrame, *, question_column: str = "question", id_column: str | None = None,
                  as_of: dt.date | None = None, concurrency: int = 4) -> pd.DataFrame:
        """Answer a DataFrame's questions: one row per question (id, question, answer_id, matched, summary,
        citations, mode, error, seconds, as_of); ids from `id_column` (`id` if present), else row numbers."""
        from assistant.batch import ask_frame

        return ask_frame(self, frame, question_column=question_column, id_column=id_column, as_of=as_of,
                         concurrency=concurrency)

    def conversation(self, analyst: str = LOCAL) -> Conversation:
        """A thread of questions in which follow-ups refine the previous plan."""
        from assistant.conversation import Conversation

        return Conversation(self, analyst)

    def plan(self, question: str, *, as_of: dt.date | None = None, previous: QueryPlan | None = None,
             analyst: str = LOCAL) -> QueryPlan:
        """The plan `ask` would run for a question (the agent's, when an LLM is configured), without running it."""
        request = AnswerRequest(question=question, analyst=analyst, as_of=as_of, previous=previous)
        return plan_request(request, db=self.db_for(analyst), embedder=self.embedder, settings=self.settings,
                            chat_model=self.chat_model)[0]

    def db_for(self, analyst: str) -> Database:
        """The database as this analyst may see it: their scopes' events only (none for an unknown analyst)."""
        return self.db.scoped(scopes_of(self.db, analyst))

    def record_feedback(self, answer_id: str, rating: Rating, *, comment: str | None = None,
                        analyst: str = LOCAL, source: FeedbackSource = "api") -> int:
        """Store a thumbs up or down (with an optional comment) against a recorded answer; return its id."""
        from assistant.record import record_feedback

        return record_feedback(self.db_for(analyst), Feedback(answer_id=answer_id, rating=rating, comment=comment,
                                                 analyst=analyst, source=source))

    def ingest(self, path: Path, mapping: Mapping | None = None, *, report_path: Path | None = None,
               progress: Progress | None = None) -> IngestResult:
        """Load a CSV, JSON Lines or Parquet file of events."""
        return ingest_file(self.db, self.embedder, path, mapping or Mapping.identity(path.stem),
                           batch_size=self.settings.ingest_batch_size,
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
