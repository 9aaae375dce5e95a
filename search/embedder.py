"""Dense text embeddings for semantic search: a lazily loaded, offline-only sentence-transformers model,
run by ONNX Runtime where the folder has the exported ``onnx/model.onnx`` (search.onnx_model: the same
vectors, without importing torch), else by sentence-transformers.

The default model is multilingual-e5-small as rebuilt by ``tools.model_build`` (``make model``); E5 models
want a ``passage: `` prompt on documents and ``query: `` on queries, which this wrapper adds. Nothing is
imported or loaded until the first call that needs the model, and nothing is ever downloaded: the model
must be a local sentence-transformers folder (or already in the local Hugging Face cache).

Texts longer than the model's ``max_tokens`` (512 for E5, prompt and ``<s>``/``</s>`` included) are
truncated by sentence-transformers; use ``token_count`` to keep chunks within that limit.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np

from search.onnx_model import OnnxModel, has_onnx

DEFAULT_PROMPTS = {"query": "query: ", "passage": "passage: "}
HINT = "run `make model` to build it, or set MK_MODEL to a local sentence-transformers folder"


class ModelUnavailable(Exception):
    """The embedding model is not there (or cannot be loaded) and will not be downloaded."""


class Embedder:
    """Embeds passages and queries with a sentence-transformers model, loaded once, on first use.

    ``model`` is a folder path (or the name of a model already in the local Hugging Face cache);
    ``device`` is a torch device string. Vectors are float32 and L2-normalised, so a dot product is a cosine.
    """

    def __init__(self, model: str | os.PathLike[str], device: str = "cpu") -> None:
        self._source = os.fspath(model)
        self._device = device
        self._model: OnnxModel | _SentenceTransformersModel | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The model path or name as given (does not load the model)."""
        return self._source

    @property
    def dimension(self) -> int:
        """Length of the embedding vectors (384 for multilingual-e5-small)."""
        return self._loaded().dimension

    @property
    def max_tokens(self) -> int:
        """The longest input, in tokens (prompt and special tokens included), the model reads before truncating."""
        return int(self._loaded().max_seq_length)

    def encode_passages(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed documents (prompt ``passage: ``): an array of shape (len(texts), dimension)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(list(texts), "passage", batch_size)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one search query (prompt ``query: ``): a vector of shape (dimension,)."""
        return self._encode([text], "query", 1)[0]

    def encode_queries(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed several query-side texts (prompt ``query: ``), e.g. the chunks of a proposal: (len(texts), dimension)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(list(texts), "query", batch_size)

    def token_count(self, text: str, prompt: str | None = "passage") -> int:
        """Tokens the model sees for ``text``: the named prompt (``passage``/``query``, or None), text, ``<s>``, ``</s>``.

        Counted without truncation, so a result above ``max_tokens`` means the text would be cut off.
        """
        return self._loaded().token_count((self._prompt(prompt) if prompt else "") + text)

    @property
    def is_loaded(self) -> bool:
        """Whether the model is in memory (``load``, or a first use, has happened)."""
        return self._model is not None

    def load(self) -> Embedder:
        """Load the model now rather than on first use (ModelUnavailable if it cannot be): a server
        loads it before forking its workers, which then share its memory."""
        self._loaded()
        return self

    def _encode(self, texts: list[str], prompt_name: str, batch_size: int) -> np.ndarray:
        return self._loaded().encode(texts, self._prompt(prompt_name), batch_size)

    def _prompt(self, name: str) -> str:
        """The model's own prompt of that name (config_sentence_transformers.json), else the E5 default."""
        return self._loaded().prompts.get(name) or DEFAULT_PROMPTS[name]

    def _loaded(self) -> OnnxModel | _SentenceTransformersModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> OnnxModel | _SentenceTransformersModel:
        """The model strictly from local files: by ONNX Runtime where the folder has the export, else by
        sentence-transformers (imported only then)."""
        _check_local_folder(self._source)
        if has_onnx(self._source):
            try:
                return OnnxModel(self._source, threads=_model_threads())
            except Exception as exc:  # a damaged export means the same to the caller as a missing model
                raise ModelUnavailable(f"cannot load embedding model {self._source!r} with ONNX Runtime ({exc}); "
                                       f"{HINT}") from exc
        # huggingface_hub reads this when first imported; local_files_only below covers the case where it already was.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        try:
            model = SentenceTransformer(self._source, device=self._device, local_files_only=True)
        except Exception as exc:  # hub/offline/format errors all mean the same thing to the caller
            raise ModelUnavailable(f"cannot load embedding model {self._source!r} from local files ({exc}); {HINT}") from exc
        if _THREADS:
            import torch

            torch.set_num_threads(_THREADS[0])
        return _SentenceTransformersModel(model)


class _SentenceTransformersModel:
    """A sentence-transformers model with the members search.onnx_model.OnnxModel has, so the Embedder
    treats the two alike."""

    def __init__(self, model: Any) -> None:  # noqa: ANN401 - a SentenceTransformer, imported lazily
        self.model = model
        self.prompts: dict[str, str] = getattr(model, "prompts", None) or {}
        self.max_seq_length = int(model.max_seq_length)
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        self.dimension = int(get())

    def encode(self, texts: list[str], prompt: str, batch_size: int) -> np.ndarray:
        vectors = self.model.encode(texts, prompt=prompt, batch_size=batch_size, convert_to_numpy=True,
                                    normalize_embeddings=True, show_progress_bar=False)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def token_count(self, text: str) -> int:
        # Through the transformers tokenizer, not its backend: sentence-transformers leaves truncation switched on there.
        return len(self.model.tokenizer(text, add_special_tokens=True, truncation=False, verbose=False)["input_ids"])


_THREADS: list[int] = []  # set_model_threads' count, for a model loaded later


def set_model_threads(count: int) -> None:
    """The threads the model may use: torch's now, where torch is imported, else once a
    sentence-transformers model imports it; an ONNX Runtime session takes the count when it is made
    (never changed after: a gunicorn master sets 1 before it loads the model, since a thread pool
    started before a fork does not survive it). Not set: all cores."""
    _THREADS[:] = [count]
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(count)


def _model_threads() -> int:
    return _THREADS[0] if _THREADS else (os.cpu_count() or 1)


_SHARED: dict[tuple[str, str], Embedder] = {}
_SHARED_LOCK = threading.Lock()


def shared_embedder(model: str | os.PathLike[str], device: str = "cpu") -> Embedder:
    """One Embedder per model and device in this process: every index and matcher over the same model
    (one per audience in the server) uses one copy of it."""
    key = (os.fspath(model), device)
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = Embedder(*key)
        return _SHARED[key]


def _check_local_folder(source: str) -> None:
    """Fail fast, before importing torch, when ``source`` names a folder that is missing or incomplete.

    Only something shaped like a hub id (``org/name``) that is not a local folder goes on to the local cache.
    """
    path = Path(source).expanduser()
    if path.is_dir():
        if not (path / "modules.json").is_file() or not (path / "config.json").is_file():
            raise ModelUnavailable(f"embedding model folder {path} is incomplete (no modules.json/config.json); {HINT}")
        return
    if path.exists() or not re.fullmatch(r"[\w-][\w.-]*(/[\w.-]+)?", source):
        raise ModelUnavailable(f"embedding model not found at {path}; {HINT}")
