"""The torch embedding backends, fp32 and bfloat16: real packaged model, real CPU, real texts."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
import pytest

from assistant.config import DEFAULT_MODEL, Settings
from assistant.embed import Embedder, native_bf16, resolve_backend
from assistant.errors import EmbeddingModelError

from .test_embed_onnx import TEXTS, cfpb_texts, demo_texts, neighbour_recall

# The bar the issue set for vectors that may share a model name with fp32 torch's: neighbour recall@10 0.99.
# Measured 0.992-0.996 (bench/README.md); the cosine floor catches autocast reaching the layer norms or pooling.
MIN_RECALL = 0.99
MIN_COSINE = 0.9999


@pytest.fixture(scope="module")
def fp32() -> Embedder:
    """fp32 torch, whatever the CPU: the reference every other backend is held to."""
    return Embedder.load(Settings(embedding_backend="torch"))


@pytest.fixture(scope="module")
def bf16() -> Embedder:
    """torch under bfloat16 autocast; skipped where the CPU would only emulate bfloat16 (slow, same numbers)."""
    if not native_bf16():
        pytest.skip("this CPU has no native bfloat16 (AVX512-BF16 or AMX): auto runs fp32 here")
    return Embedder.load(Settings(embedding_backend="torch-bf16"))


@pytest.mark.slow
@pytest.mark.parametrize("texts", [cfpb_texts, demo_texts], ids=["cfpb", "demo"])
def test_bf16_vectors_agree_with_fp32(bf16: Embedder, fp32: Embedder, texts: Callable[[], list[str]]) -> None:
    sample = texts()
    assert len(sample) == TEXTS
    ours, theirs = bf16.encode(sample), fp32.encode(sample)
    assert ours.shape == theirs.shape == (TEXTS, 384) and ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    assert not np.array_equal(ours, theirs)  # bfloat16 really ran: its products round differently
    assert np.sum(ours * theirs, axis=1).min() >= MIN_COSINE
    assert neighbour_recall(theirs, ours) >= MIN_RECALL


def test_bf16_vectors_are_stored_under_the_models_own_name(bf16: Embedder, fp32: Embedder) -> None:
    # Within the bar above, a database may hold vectors of both (an AVX2 machine running auto gets fp32).
    assert bf16.name == fp32.name == DEFAULT_MODEL
    assert (bf16.backend, fp32.backend) == ("torch-bf16", "torch")


def test_auto_is_bf16_only_on_a_cpu_that_has_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RISK_EMBEDDING_BACKEND", raising=False)
    assert Settings().embedding_backend == "auto"
    assert resolve_backend(Settings()) == ("torch-bf16" if native_bf16() else "torch")
    assert resolve_backend(Settings(embedding_device="cuda")) == "torch"
    assert resolve_backend(Settings(embedding_backend="torch")) == "torch"
    assert resolve_backend(Settings(embedding_backend="torch-bf16")) == "torch-bf16"


def test_bf16_on_a_gpu_is_refused() -> None:
    with pytest.raises(EmbeddingModelError, match="runs on the CPU"):
        Embedder.load(Settings(embedding_backend="torch-bf16", embedding_device="cuda:0"))
    assert resolve_backend(Settings(embedding_device="cpu:0")) == resolve_backend(Settings(embedding_device="cpu"))


def test_nothing_to_embed_is_an_empty_matrix(embedder: Embedder) -> None:
    # Ingest asks for the vectors of no texts when every event of a batch is unchanged.
    assert embedder.encode([]).shape == (0, 384)


@pytest.mark.parametrize("backend", ["torch", "torch-bf16"])
def test_two_batches_in_flight_give_each_batch_its_own_vectors(backend: str) -> None:
    # Several batches run two at a time, each on half the cores; one batch runs alone on all of them.
    if backend == "torch-bf16" and not native_bf16():
        pytest.skip("no native bfloat16 on this CPU")
    embedder = Embedder.load(Settings(embedding_backend=backend, embedding_batch_size=4))
    texts = demo_texts()[:18]
    done: list[int] = []
    together = embedder.encode(texts, progress=done.append)
    lengths = embedder._lengths(texts)  # in tokens: the order encode cuts its batches in
    order = sorted(range(len(texts)), key=lengths.__getitem__)
    alone = np.zeros_like(together)
    for start in range(0, len(order), 4):
        chunk = order[start:start + 4]
        alone[chunk] = embedder.encode([texts[i] for i in chunk], batch_size=len(chunk))
    assert done == [4, 4, 4, 4, 2]
    # Not bit for bit: a product on one thread may round unlike the same product split over two.
    np.testing.assert_allclose(together, alone, atol=2e-6 if backend == "torch" else 2e-3)
    assert np.sum(together * alone, axis=1).min() > (0.99999 if backend == "torch" else 0.9999)


def test_concurrent_callers_each_get_their_own_vectors(embedder: Embedder) -> None:
    texts = demo_texts()[:40]
    expected = embedder.encode(texts)
    results: dict[int, np.ndarray] = {}

    def call(caller: int) -> None:
        results[caller] = embedder.encode(texts[caller::2]) if caller < 2 else embedder.encode_one(texts[caller])

    threads = [threading.Thread(target=call, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Batches sorted and cut differently round differently in bfloat16: close, not equal.
    np.testing.assert_allclose(results[0], expected[0::2], atol=5e-3)
    np.testing.assert_allclose(results[1], expected[1::2], atol=5e-3)
    for caller in range(2, 6):
        assert float(results[caller] @ expected[caller]) > 0.9999
