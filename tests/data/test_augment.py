"""data/wordnet.py, data/eda.py, data/augment.py: the offline WordNet cache, synonym replacement
(checked against NLTK's reader directly), the EDA operations, and label-preserving determinism."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from scalelab.core.errors import ConfigError
from scalelab.data.augment import augment
from scalelab.data.datasets import load_dataset
from scalelab.data.eda import (
    WordNetSynonyms,
    eda,
    random_deletion,
    random_swap,
    replace_synonyms,
)
from scalelab.data.text import STOP_WORDS, tokens
from scalelab.data.wordnet import WORDNET_FILES, load_wordnet, wordnet_dir


@pytest.fixture(scope="module")
def synonyms() -> WordNetSynonyms:
    return WordNetSynonyms()


def test_cache_is_lf_only_and_complete(tmp_path):
    folder = wordnet_dir(tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == sorted(WORDNET_FILES)
    assert b"\r\n" not in (folder / "data.noun").read_bytes()[:2_000_000]
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no staging folder left
    assert wordnet_dir(tmp_path) == folder  # second call reuses it


def test_nltk_reader_reads_wordnet_30():
    wn = load_wordnet()
    assert wn.get_version() == "3.0"
    assert "car.n.01" in [s.name() for s in wn.synsets("automobile")]


def test_synonyms_keep_the_usual_part_of_speech(synonyms):
    assert "film" in synonyms("movie")
    assert "automobile" in synonyms("car")
    assert synonyms("the") == () and synonyms("cars") == ()  # stop word; inflected form
    wn = load_wordnet()
    for word in ("movie", "terrible", "quickly"):
        allowed = {
            n.replace("_", " ").lower()
            for pos in "nvar"
            for s in wn.synsets(word, pos)
            for n in s.lemma_names()
        }
        assert set(synonyms(word)) <= allowed


def test_synonym_replacement_changes_most_sentences_with_a_synonym(synonyms):
    """Independent of the tool: a sentence 'has a synonym' if NLTK lists another lemma for one of
    its non-stop-word alphabetic tokens."""
    wn = load_wordnet()
    texts = load_dataset("rt").texts[:300]
    rng = random.Random(0)

    def has_synonym(text: str) -> bool:
        for tok in tokens(text):
            w = tok.lower()
            if w.isalpha() and w not in STOP_WORDS and len(w) > 2:
                names = {n.lower() for s in wn.synsets(w) for n in s.lemma_names()}
                if names - {w}:
                    return True
        return False

    eligible = [t for t in texts if has_synonym(t)]
    changed = sum(replace_synonyms(t, rng, synonyms, 1) != t for t in eligible)
    assert len(eligible) > 250
    assert changed / len(eligible) >= 0.9


def test_replacement_keeps_layout_and_case(synonyms):
    rng = random.Random(3)
    text = "The Movie was terrible, truly terrible!"
    out = replace_synonyms(text, rng, synonyms, 5)
    assert out != text and out.startswith("The ") and out.endswith("!")
    assert out.split()[1][0].isupper()  # "Movie" -> "Film"/"Picture": capital kept


def test_eda_operations():
    rng = random.Random(0)
    units = "a b c d e f g h i j".split()
    swapped = random_swap(units, rng, 2)
    assert sorted(swapped) == sorted(units) and swapped != units
    kept = random_deletion(units, rng, 0.5)
    assert 1 <= len(kept) < len(units) and all(u in units for u in kept)
    assert random_deletion(["x"], random.Random(1), 0.99999) == ["x"]  # never empty


@pytest.mark.parametrize("op", ["synonym", "insert", "swap", "delete"])
def test_each_eda_op_changes_text(synonyms, op):
    text = "a quiet film about a lonely man who finds an old dog in the cold city park"
    outs = {eda(text, op, random.Random(s), synonyms) for s in range(5)}
    assert any(o != text for o in outs)
    if op == "insert":
        assert all(len(o.split()) > len(text.split()) for o in outs)


def test_augment_keeps_labels_and_is_deterministic(synonyms):
    data = load_dataset("debates")
    texts, labels = data.texts[:40], data.labels[:40]
    a = augment(texts, labels, "eda", per_example=3, seed=7, synonyms=synonyms)
    b = augment(texts, labels, "eda", per_example=3, seed=7, synonyms=synonyms)
    c = augment(texts, labels, "eda", per_example=3, seed=8, synonyms=synonyms)
    assert a.texts == b.texts and a.texts != c.texts
    assert len(a.texts) == 120
    assert all(lab == labels[s] for lab, s in zip(a.labels, a.source_index, strict=True))
    # a row's copies do not depend on how many rows follow it
    shifted = augment(texts[:6], labels[:6], "eda", per_example=3, seed=7, synonyms=synonyms)
    assert shifted.texts == a.texts[:18]


def test_augment_bad_flags():
    with pytest.raises(ConfigError, match="--method"):
        augment(["a"], ["x"], "magic")
    with pytest.raises(ConfigError, match="--per-example"):
        augment(["a"], ["x"], "synonym", per_example=0)


def test_no_cache_dir_anywhere_but_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SCALELAB_CACHE", str(tmp_path / "c"))
    from scalelab.data.wordnet import cache_root

    assert cache_root() == Path(tmp_path / "c")
