"""data/translate.py: back-translation through Apertium for real (installed by ./dev), and the
CTranslate2 backend's plumbing on a tiny random Transformer built here (never downloaded)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from scalelab.core.errors import ConfigError
from scalelab.data.augment import augment
from scalelab.data.translate import (
    ApertiumTranslator,
    CTranslate2Translator,
    apertium_back_translator,
    ctranslate2_back_translator,
)

SENTENCES = [
    "The quick brown fox jumps over the lazy dog.",
    "I really love this movie, it is great!",
    "",
    "The weather was cold and the streets were empty.",
    "Third line with @user and #tag and\na line break inside.",
]


def test_apertium_round_trip_is_real_and_line_aligned():
    spanish = ApertiumTranslator("eng-spa").translate(SENTENCES)
    assert len(spanish) == len(SENTENCES) and spanish[2] == ""
    assert "perro" in spanish[0] and "película" in spanish[1]  # real English -> Spanish
    back = apertium_back_translator().translate(SENTENCES)
    assert len(back) == len(SENTENCES)
    assert "dog" in back[0] and "fox" in back[0]
    changed = [b != s for b, s in zip(back, SENTENCES, strict=True) if s]
    assert sum(changed) >= 3  # a paraphrase, not a copy


def test_backtranslate_augmentation_keeps_labels():
    texts = SENTENCES[:2] + SENTENCES[3:4]
    result = augment(texts, ["a", "b", "c"], "backtranslate", per_example=2)
    assert result.labels == ("a", "a", "b", "b", "c", "c")
    assert result.backend == "apertium eng-spa + apertium spa-eng"
    assert result.changed_frac > 0.5


def test_missing_apertium_is_one_line_with_the_install_hint():
    with pytest.raises(ConfigError) as exc:
        ApertiumTranslator("eng-spa", binary="no-such-apertium-binary").translate(["hi"])
    assert "apt-get install apertium-eng-spa" in str(exc.value) and "\n" not in str(exc.value)


def test_unknown_apertium_mode_is_a_config_error():
    with pytest.raises(ConfigError, match="apertium xxx-yyy"):
        ApertiumTranslator("xxx-yyy").translate(["hello"])


def _setvar(root, name: str, value: np.ndarray) -> None:
    obj, parts = root, name.split("/")
    for part in parts[:-1]:
        if hasattr(obj, part):
            obj = getattr(obj, part)
        else:
            base, index = re.fullmatch(r"(.+)_(\d+)", part).groups()
            obj = getattr(obj, base)[int(index)]
    setattr(obj, parts[-1], value)


def build_tiny_marian_like(folder: Path, with_spm: bool = True) -> list[str]:
    """A 1+1-layer Transformer (d=16) with random weights and a 21-word SentencePiece vocabulary
    trained here, saved as a CTranslate2 model directory with Marian's source/target.spm."""
    import sentencepiece as spm
    from ctranslate2 import specs

    corpus = ["the cat sat on the mat", "a dog ran in the park", "the film was good",
              "a bad movie", "el gato", "un perro"] * 20  # fmt: skip
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus), model_writer=proto, vocab_size=21, model_type="word",
        bos_id=-1, eos_id=1, unk_id=0, pad_id=-1, minloglevel=2,
    )  # fmt: skip
    sp = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    d, ff, vs, vt = 16, 32, len(vocab), len(vocab) + 1
    spec = specs.TransformerSpec.from_config((1, 1), 2)
    rng = np.random.default_rng(0)

    def shape(name: str) -> tuple[int, ...]:
        if name.endswith(("gamma", "beta")):
            return (d,)
        if "embeddings" in name or "projection" in name:
            return (vs if name.startswith("encoder") else vt, d)
        rows = {"self_attention/linear_0": 3 * d, "/attention/linear_1": 2 * d, "ffn/linear_0": ff}
        cols = ff if "ffn/linear_1" in name else d
        return (next((r for k, r in rows.items() if k in name), d), cols)

    for name, value in spec.variables(ordered=True):
        if value is None:
            s = shape(name)
            v = np.ones(s) if name.endswith("gamma") else np.zeros(s) if name.endswith("beta") \
                else rng.normal(0, 0.5, s)  # fmt: skip
            _setvar(spec, name, v.astype(np.float32))
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab + ["<s>"])
    spec.validate()
    spec.optimize(None)
    folder.mkdir(parents=True)
    spec.save(str(folder))
    if with_spm:
        (folder / "source.spm").write_bytes(proto.getvalue())
        (folder / "target.spm").write_bytes(proto.getvalue())
    return vocab


@pytest.mark.slow
def test_ctranslate2_backend_plumbing(tmp_path):
    vocab = build_tiny_marian_like(tmp_path / "tiny")
    words = {v.lstrip("\u2581") for v in vocab} | {"<s>", "\u2047"}  # spm's unknown mark
    translator = CTranslate2Translator(tmp_path / "tiny", max_length=12)
    inputs = ["the cat sat on the mat", "a good film", "the dog"]
    first = translator.translate(inputs)
    assert len(first) == 3 and first == translator.translate(inputs)  # greedy: deterministic
    for line in first:
        assert line and set(line.replace("<s>", " <s> ").split()) <= words
    back = ctranslate2_back_translator(tmp_path / "tiny", tmp_path / "tiny")
    result = augment(inputs, ["x", "y", "x"], "backtranslate", per_example=1, translator=back)
    assert result.labels == ("x", "y", "x") and result.backend.startswith("ctranslate2 tiny")


def test_ctranslate2_without_sentencepiece_uses_words(tmp_path):
    vocab = build_tiny_marian_like(tmp_path / "plain", with_spm=False)
    out = CTranslate2Translator(tmp_path / "plain", max_length=6).translate(["\u2581the \u2581cat"])
    assert len(out) == 1 and set(out[0].split()) <= set(vocab) | {"<s>"}


def test_ctranslate2_rejects_a_non_model_folder(tmp_path):
    with pytest.raises(ConfigError, match="not a CTranslate2 model directory"):
        CTranslate2Translator(tmp_path)
