"""The embedding model run by ONNX Runtime: the same vectors as sentence-transformers (mean pooling, L2
normalisation, the same tokenizer and truncation), without importing torch, transformers or
sentence-transformers, which took most of a `python -m search match` call.

`make model` (tools.model_build) exports the sentence-transformers folder's transformer to
``onnx/model.onnx`` and checks the two give the same vectors; search.embedder uses this backend when
that file is there, with the threads search.embedder.set_model_threads gave (a gunicorn master loads
the model on one before it forks its workers: a thread pool started before a fork does not survive it)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np

ONNX_FILE = Path("onnx") / "model.onnx"


def has_onnx(folder: str | Path) -> bool:
    return (Path(folder) / ONNX_FILE).is_file()


class OnnxModel:
    """The parts of a sentence-transformers model search.embedder uses: encode, the prompts, the
    longest input and a token count."""

    def __init__(self, folder: str | Path, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        folder = Path(folder)
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        if not pooling.get("pooling_mode_mean_tokens") or not (folder / "2_Normalize").is_dir():
            raise ValueError("the ONNX backend runs mean-pooled, normalised models only")
        settings = json.loads((folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))
        self.prompts: dict[str, str] = settings.get("prompts") or {}
        self.max_seq_length = int(config["max_seq_length"])
        self.dimension = int(pooling["word_embedding_dimension"])
        self._tokenizer_file = str(folder / "tokenizer.json")
        self._tokenizer = Tokenizer.from_file(self._tokenizer_file)
        self._tokenizer.enable_truncation(self.max_seq_length)
        self._tokenizer.no_padding()
        self._counter: Any = None  # a second tokenizer, without truncation, made at the first token_count
        self._lock = threading.Lock()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self._session = ort.InferenceSession(str(folder / ONNX_FILE), options, providers=["CPUExecutionProvider"])
        # The memory a run took goes back after it: without this, a batch of long passages grows the
        # session's memory arena for good, in every server worker that ran one.
        self._run_options = ort.RunOptions()
        self._run_options.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")

    def encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        """L2-normalised mean-pooled vectors of `prompt + text`, in the order given; texts go in batches of
        similar length, as sentence-transformers batches them, so little padding is computed."""
        encodings = self._tokenizer.encode_batch([prompt + text for text in texts])
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chosen = order[start:start + batch_size]
            out[chosen] = self._pooled([encodings[i] for i in chosen])
        return out

    def token_count(self, text: str) -> int:
        """Tokens of `text` with the special tokens, not truncated."""
        with self._lock:
            if self._counter is None:
                from tokenizers import Tokenizer

                self._counter = Tokenizer.from_file(self._tokenizer_file)
                self._counter.no_truncation()
                self._counter.no_padding()
        return len(self._counter.encode(text).ids)

    def _pooled(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask}, self._run_options)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
