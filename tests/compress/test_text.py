import numpy as np
import pytest

from scalelab.compress.text import UNK_ID, Vocabulary, split_indices, words
from scalelab.core.errors import ConfigError


def test_vocabulary_ranks_by_frequency_then_alphabet():
    v = Vocabulary.build(["b a a", "c b a", "d"], size=6)
    assert v.tokens == ("<pad>", "<cls>", "<unk>", "a", "b", "c")
    ids = v.encode(["a zzz b", ""], max_len=5)
    assert ids.tolist() == [[1, 3, UNK_ID, 4, 0], [1, 0, 0, 0, 0]]


def test_words_lowercase_and_keep_apostrophes():
    assert words("Don't STOP, 2024!") == ["don't", "stop", "2024"]


def test_split_is_stratified_disjoint_and_seeded():
    labels = np.array([0] * 50 + [1] * 10)
    tr, te = split_indices(labels, 0.2, seed=0)
    assert set(tr).isdisjoint(te) and len(tr) + len(te) == 60
    assert (labels[te] == 0).sum() == 10 and (labels[te] == 1).sum() == 2
    assert split_indices(labels, 0.2, seed=0)[1].tolist() == te.tolist()


def test_unknown_dataset_is_one_line():
    from scalelab.compress.text import load_task

    with pytest.raises(ConfigError, match="--dataset"):
        load_task("nope", 100, 16)
