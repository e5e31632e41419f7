"""The onnx-int8 embedding backend: export a local sentence-transformers model to ONNX once, quantise its
weights to int8, and encode with ONNX Runtime and the model's own tokenizer (mean pooling, L2 norm)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.errors import EmbeddingModelError

log = logging.getLogger(__name__)

BACKEND = "onnx-int8"
# Part of the cache key: a change to how the file is made (opset, quantiser options) re-exports it.
# Measured on 200 CFPB narratives against the torch vectors: per-tensor weights gave mean cosine 0.949 and
# neighbour recall@10 0.77, per-channel 0.994 and 0.90. Only MatMuls: quantising the embedding Gathers too
# (the default) gave a 23 MB file instead of 59 MB but recall 0.890 instead of 0.898. Keeping any one layer,
# or all six feed-forward output MatMuls, in fp32 raised recall to 0.92 at most: the error is in every layer.
RECIPE = "opset17-eager;dynamic-qint8;per-channel;MatMul"
SOURCE_FILES = ("config.json", "tokenizer.json", "sentence_bert_config.json", "modules.json",
                "1_Pooling/config.json", "model.safetensors", "pytorch_model.bin")
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_loading = threading.Lock()  # one export per process even when two threads load at once
Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ModelLayout:
    """What the model directory says about pooling and length: what the ONNX path must reproduce."""

    directory: Path
    max_seq_length: int
    dimension: int


class OnnxModel:
    """An int8 ONNX transformer with the tokenizer and pooling of the sentence-transformers model it came from."""

    device = BACKEND  # not "cpu": embed.Embedder's torch thread switch does not apply to ONNX Runtime

    def __init__(self, path: Path, layout: ModelLayout) -> None:
        import onnxruntime  # type: ignore[import-untyped]
        from tokenizers import Tokenizer

        self.path = path
        self._dimension = layout.dimension
        self._tokenizer = Tokenizer.from_file(str(layout.directory / "tokenizer.json"))
        # tokenizer.json ships with truncation at 128 and fixed padding to 128: sentence-transformers
        # truncates at max_seq_length (256 here), and texts here are run one at a time, unpadded.
        self._tokenizer.enable_truncation(max_length=layout.max_seq_length)
        self._tokenizer.no_padding()
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # its warnings about unused initialisers are noise to a user
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]

    def get_embedding_dimension(self) -> int:
        """The vectors' length, as sentence-transformers names it."""
        return self._dimension

    def encode(self, texts: list[str], **_: Any) -> Matrix:
        """L2-normalised mean-pooled vectors (the keywords of SentenceTransformer.encode are accepted and
        ignored: the caller batches, and the vectors are always normalised numpy)."""
        # One text per run: dynamic quantisation scales each run's activations by their range, so in a batch
        # a text's vector depended on its neighbours and on padding (cosine 0.99 to the same text embedded
        # alone, min 0.983), and a question, embedded alone, would not match its stored copy. Alone, a text
        # gets one vector wherever it is embedded; at 0.7x the batched rate on short texts, 0.95x on long ones.
        vectors = np.empty((len(texts), self._dimension), dtype=np.float32)
        for row, encoding in enumerate(self._tokenizer.encode_batch(texts)):
            ids = np.array([encoding.ids], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, {name: feed[name] for name in self._inputs})[0]
            pooled = hidden[0].mean(axis=0)  # no padding: every token counts, as under the attention mask
            vectors[row] = pooled / max(float(np.linalg.norm(pooled)), 1e-12)
        return vectors


def read_layout(directory: Path) -> ModelLayout:
    """Check the model is a mean-pooled, normalised transformer (what OnnxModel computes) and read its sizes."""
    try:
        modules = [m["type"].rsplit(".", 1)[-1] for m in _read_json(directory / "modules.json")]
        pooling = _read_json(directory / "1_Pooling" / "config.json")
        bert = _read_json(directory / "sentence_bert_config.json")
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise EmbeddingModelError(f"{directory} is not a sentence-transformers model directory the {BACKEND} "
                                  f"backend can read ({err}); set RISK_EMBEDDING_BACKEND=torch") from err
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode_") and v}
    if modules != ["Transformer", "Pooling", "Normalize"] or modes != {"pooling_mode_mean_tokens"}:
        raise EmbeddingModelError(f"the {BACKEND} backend computes mean pooling and L2 normalisation only; "
                                  f"{directory} has modules {modules} and pooling {sorted(modes)}: "
                                  "set RISK_EMBEDDING_BACKEND=torch for this model")
    return ModelLayout(directory, int(bert["max_seq_length"]), int(pooling["word_embedding_dimension"]))


def source_hash(directory: Path) -> str:
    """SHA-256 of the files that define the model, and of the export recipe: either changing re-exports."""
    digest = hashlib.sha256(RECIPE.encode())
    for name in SOURCE_FILES:
        path = directory / name
        if path.is_file():
            digest.update(name.encode())
            with open(path, "rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
    return digest.hexdigest()


def cached_path(models_dir: Path, name: str, digest: str) -> Path:
    """Where the quantised file of this model and source hash is kept."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in Path(name).name)
    return models_dir / f"{safe}-{digest[:16]}-int8.onnx"


def load_int8(name: str, layout: ModelLayout, models_dir: Path) -> OnnxModel:
    """The int8 model, exported and quantised on first use and read from models_dir after that."""
    with _loading:
        target = cached_path(models_dir, name, source_hash(layout.directory))
        if not target.is_file():
            log.warning("exporting embedding model %s to ONNX int8, once (about 10-30 s): %s", name, target)
            export_int8(layout.directory, target)
        return OnnxModel(target, layout)


def export_int8(directory: Path, target: Path) -> None:
    """Export the transformer to ONNX (fp32), quantise its weights to int8, and move the result into
    place in one rename: a process reading the cache sees the whole file or none."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export-", dir=target.parent) as tmp:
        fp32, int8 = Path(tmp) / "model.onnx", Path(tmp) / "model-int8.onnx"
        try:
            _export_fp32(directory, fp32)
            _quantise(fp32, int8)
        except Exception as err:  # the exporter and quantiser raise many kinds; all mean "no model"
            raise EmbeddingModelError(f"cannot export {directory} to ONNX int8: {err}; "
                                      "set RISK_EMBEDDING_BACKEND=torch") from err
        os.replace(int8, target)


def _export_fp32(directory: Path, path: Path) -> None:
    import torch
    from transformers import AutoModel

    # Eager attention: the legacy (TorchScript) exporter traces it into plain ONNX ops, and it needs
    # no onnxscript, which the default dynamo exporter would.
    model = AutoModel.from_pretrained(str(directory), attn_implementation="eager").eval()
    sample = tuple(torch.ones((2, 8), dtype=torch.long) for _ in _INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "last_hidden_state")}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shapes: the axes are declared dynamic
        torch.onnx.export(_hidden_module(model), sample, str(path), dynamo=False, opset_version=17,
                          input_names=list(_INPUTS), output_names=["last_hidden_state"], dynamic_axes=axes)


def _quantise(fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic  # type: ignore[import-untyped]

    quiet = _Silence("pre-processing before quantization")
    logging.getLogger().addFilter(quiet)  # its advice to pre-process is for static quantisation
    try:
        quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
    finally:
        logging.getLogger().removeFilter(quiet)


def _hidden_module(model: Any) -> Any:
    """The transformer's last hidden state for (ids, mask, token types): pooling stays in numpy."""
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    return Hidden()


class _Silence(logging.Filter):
    """Drops log records containing a phrase."""

    def __init__(self, phrase: str) -> None:
        super().__init__()
        self.phrase = phrase

    def filter(self, record: logging.LogRecord) -> bool:
        return self.phrase not in record.getMessage()


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
