"""A LangChain `VectorStore` over the risk event tables: documents are events of one source."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from langchain_core.documents import Document
from langchain_core.embeddings import Embeddings
from langchain_core.vectorstores import VectorStore
from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import ValidationError
from pydantic_core import to_jsonable_python

from assistant.db import Database
from assistant.embed import Embedder, Vector
from assistant.errors import ConfigError, InputError, PlanError
from assistant.filters import ATTRIBUTE_PREFIX, compile_filters, field_type
from assistant.ingest import content_hash
from assistant.models import Filter, FilterOp, RiskEvent
from assistant.resources import query

DEFAULT_SOURCE = "langchain"
DEFAULT_CATEGORY = "document"
# Metadata keys that also fill the event's typed columns (and are filtered on those columns).
CANONICAL_FIELDS = ("occurred_at", "category", "subcategory", "severity", "entity_id", "entity_name",
                    "amount", "currency", "status", "title")
OPERATORS: dict[str, FilterOp] = {"$eq": "eq", "$ne": "ne", "$in": "in", "$nin": "not_in",
                                  "$gt": "gt", "$gte": "gte", "$lt": "lt", "$lte": "lte"}
# Stands in for a missing occurred_at in the content hash, so that re-adding the same document
# leaves it unchanged instead of moving its default time (now()) and re-embedding it.
_NO_TIME = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class EmbedderEmbeddings(Embeddings):
    """Our sentence-transformers `Embedder` as LangChain `Embeddings`."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed texts (L2-normalised)."""
        vectors: list[list[float]] = self.embedder.encode(texts).tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed one query text."""
        vector: list[float] = self.embedder.encode_one(text).tolist()
        return vector


class RiskEventStore(VectorStore):
    """Documents as risk events: page_content is the text, metadata the attributes, ids the source ids.

    Vectors go to `event_embeddings` under the model name given here; every read, write and search
    is confined to the store's `source`.
    """

    def __init__(self, db: Database, embedding: Embeddings, *, model: str, source: str = DEFAULT_SOURCE) -> None:
        self.db = db
        self.embedding = embedding
        self.model = model
        self.source = source
        self._registered = False

    @classmethod
    def for_embedder(cls, db: Database, embedder: Embedder, source: str = DEFAULT_SOURCE) -> RiskEventStore:
        """A store over one source's events embedded with our own model (e.g. ingested ones)."""
        return cls(db, EmbedderEmbeddings(embedder), model=embedder.name, source=source)

    @property
    def embeddings(self) -> Embeddings:
        """The embeddings that documents and queries go through."""
        return self.embedding

    @classmethod
    def from_texts(cls, texts: list[str], embedding: Embeddings, metadatas: list[dict[str, Any]] | None = None,
                   *, ids: list[str] | None = None, **kwargs: Any) -> RiskEventStore:
        """A store (keyword arguments `db`, `model`, optional `source`) holding these texts."""
        db, model = kwargs.pop("db", None), kwargs.pop("model", None)
        if not isinstance(db, Database) or not isinstance(model, str):
            raise ConfigError("RiskEventStore.from_texts needs db=<Database> and model=<embedding model name>")
        store = cls(db, embedding, model=model, source=kwargs.pop("source", DEFAULT_SOURCE))
        store.add_texts(texts, metadatas, ids=ids)
        return store

    def add_texts(self, texts: Iterable[str], metadatas: list[dict[str, Any]] | None = None, *,
                  ids: list[str] | None = None, **kwargs: Any) -> list[str]:
        """Upsert texts with their metadata; ids are generated where missing. Returns the ids."""
        texts = list(texts)
        metas = metadatas if metadatas is not None else [{} for _ in texts]
        given: Sequence[str | None] = ids if ids is not None else [None] * len(texts)
        if not len(metas) == len(given) == len(texts):
            raise InputError(f"{len(texts)} texts need as many metadatas and ids; got {len(metas)} and {len(given)}")
        docs = [Document(page_content=t, metadata=m, id=i) for t, m, i in zip(texts, metas, given, strict=True)]
        return self.add_documents(docs)

    def add_documents(self, documents: list[Document], **kwargs: Any) -> list[str]:
        """Upsert documents by id (the `ids` keyword wins over `Document.id`); returns the ids."""
        ids: list[str] = [
            str(i) if i else str(uuid.uuid4())
            for i in kwargs.get("ids") or [doc.id for doc in documents]
        ]
        if len(ids) != len(documents):
            raise InputError(f"{len(documents)} documents need as many ids; got {len(ids)}")
        # A repeated id in one call: the last document wins, as if they were added one by one.
        latest = {source_id: doc for source_id, doc in zip(ids, documents, strict=True)}
        if latest:
            self._upsert([self._to_event(doc, source_id) for source_id, doc in latest.items()])
        return ids

    def delete(self, ids: list[str] | None = None, **kwargs: Any) -> bool | None:
        """Delete this source's documents with these ids; missing ids are ignored."""
        if ids is None:
            raise InputError("RiskEventStore.delete needs the ids to delete; it never deletes a whole source")
        self.db.execute(query("lc_delete_events"), {"source": self.source, "ids": list(ids)})
        return True

    def get_by_ids(self, ids: Sequence[str], /) -> list[Document]:
        """The documents with these ids, in the order asked; missing ids are left out."""
        rows = self.db.fetch_all("lc_select_documents", {"source": self.source, "ids": list(ids)})
        by_id = {row["source_id"]: _to_document(row) for row in rows}
        return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]

    def similarity_search(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None,
                          **kwargs: Any) -> list[Document]:
        """The k documents closest to the query, under the filter."""
        return [doc for doc, _ in self.similarity_search_with_score(query, k, filter=filter)]

    def similarity_search_with_score(self, query: str, k: int = 4, filter: Mapping[str, Any] | None = None,
                                     **kwargs: Any) -> list[tuple[Document, float]]:
        """The k closest documents with their cosine similarity (higher is closer)."""
        return self._search(self.embedding.embed_query(query), k, filter)

    def similarity_search_by_vector(self, embedding: list[float], k: int = 4,
                                    filter: Mapping[str, Any] | None = None, **kwargs: Any) -> list[Document]:
        """The k documents closest to a vector, under the filter."""
        return [doc for doc, _ in self._search(embedding, k, filter)]

    def _select_relevance_score_fn(self) -> Callable[[float], float]:
        # Scores are already cosine similarities, higher is closer: nothing to convert.
        return _identity

    def _search(self, vector: Sequence[float], k: int,
                filter: Mapping[str, Any] | None) -> list[tuple[Document, float]]:
        compiled = compile_filters(translate_filter(filter))
        statement = sql.SQL(query("lc_search_events")).format(where=compiled.where)
        params = {**compiled.params, "query": _vector(vector), "model": self.model, "source": self.source, "k": k}
        rows = self.db.execute(statement, params)
        return [(_to_document({"source_id": r[0], "text": r[1], "attributes": r[2]}), float(r[3])) for r in rows]

    def _to_event(self, doc: Document, source_id: str) -> tuple[RiskEvent, bytes]:
        fields = {key: doc.metadata[key] for key in CANONICAL_FIELDS if doc.metadata.get(key) is not None}
        fields.setdefault("category", DEFAULT_CATEGORY)
        timed = "occurred_at" in fields
        fields.setdefault("occurred_at", _NO_TIME)
        try:
            event = RiskEvent(source=self.source, source_id=source_id, text=doc.page_content,
                              attributes=to_jsonable_python(doc.metadata), **fields)
        except ValidationError as err:
            raise InputError(f"document {source_id!r}: metadata does not fit a risk event: {err}") from None
        digest = content_hash(event)
        if not timed:
            event = event.model_copy(update={"occurred_at": dt.datetime.now(dt.UTC)})
        return event, digest

    def _upsert(self, events: list[tuple[RiskEvent, bytes]]) -> None:
        """Insert or update what changed and embed it: the same COPY path as ingestion, in one transaction."""
        stored = {r["source_id"]: r for r in self.db.fetch_all("select_existing_events", {
            "model": self.model, "source": self.source, "source_ids": [e.source_id for e, _ in events]})}
        changed = [(e, h) for e, h in events
                   if e.source_id not in stored or bytes(stored[e.source_id]["content_hash"]) != h]
        changed_ids = {e.source_id for e, _ in changed}
        to_embed = [e for e, _ in events if e.source_id in changed_ids or not stored[e.source_id]["embedded"]]
        if not to_embed:
            return
        # Embed before the transaction opens, so that the transaction stays short.
        vectors = np.asarray(self.embedding.embed_documents([e.text for e in to_embed]), dtype=np.float32)
        self._register(int(vectors.shape[1]))
        with self.db.transaction() as conn:
            conn.execute(query("create_staging_tables"))
            with conn.cursor().copy(query("copy_staging_events")) as copy:
                for event, digest in changed:
                    copy.write_row(_copy_row(event, digest))
            conn.execute(query("upsert_events"))
            with conn.cursor().copy(query("copy_staging_embeddings")) as copy:
                copy.set_types(["text", "vector"])
                for event, vector in zip(to_embed, vectors, strict=True):
                    copy.write_row([event.source_id, vector])
            conn.execute(query("upsert_embeddings"), {"model": self.model, "source": self.source})

    def _register(self, dimension: int) -> None:
        if not self._registered:
            self.db.ensure_embedding_model(self.model, dimension)
            self._registered = True


def translate_filter(filter: Mapping[str, Any] | None) -> list[Filter]:
    """LangChain filter dict to our filters: canonical fields are typed columns, other keys attributes."""
    filters: list[Filter] = []
    for key, condition in (filter or {}).items():
        field = _field(key)
        conditions = condition if isinstance(condition, Mapping) else {"$eq": condition}
        for op, value in conditions.items():
            if op not in OPERATORS:
                raise PlanError(f"filter {key!r}: unknown operator {op!r}; allowed: {', '.join(OPERATORS)}")
            text_valued = field.startswith(ATTRIBUTE_PREFIX)
            filters.append(Filter(field=field, op=OPERATORS[op], value=_value(value, text_valued)))
    return filters


def _field(key: str) -> str:
    if key.startswith("$"):
        raise PlanError(f"filter operator {key!r} is not supported; combine conditions as keys of one dict")
    field = key if key in CANONICAL_FIELDS or key.startswith(ATTRIBUTE_PREFIX) else ATTRIBUTE_PREFIX + key
    field_type(field)  # PlanError unless the allowlist admits it
    return field


def _value(value: Any, text_valued: bool) -> Any:
    """Attributes compare as JSON text (`->>`), where booleans read `true` / `false`."""
    if isinstance(value, list | tuple):
        return [_value(v, text_valued) for v in value]
    if text_valued and isinstance(value, bool):
        return "true" if value else "false"
    return value


def _to_document(row: Mapping[str, Any]) -> Document:
    return Document(id=row["source_id"], page_content=row["text"], metadata=dict(row["attributes"]))


def _vector(values: Sequence[float]) -> Vector:
    return np.asarray(values, dtype=np.float32)


def _identity(score: float) -> float:
    return score


def _copy_row(event: RiskEvent, digest: bytes) -> list[Any]:
    return [
        event.source, event.source_id, event.occurred_at, event.category, event.subcategory,
        event.severity, event.entity_id, event.entity_name, event.amount, event.currency,
        event.status, event.title, event.text, Jsonb(event.attributes), digest, event.scope,
    ]
