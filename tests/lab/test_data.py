from pathlib import Path

import pytest
import torch

from scalelab.core.errors import ConfigError
from scalelab.lab.data import ByteSplits, load_corpus_bytes, load_digits_splits, sample_windows


def test_builtin_corpus_is_the_sonnets():
    text = load_corpus_bytes().decode("ascii")
    assert text.startswith("THE SONNETS\nby William Shakespeare")
    assert "From fairest creatures we desire increase" in text
    assert len(text) > 90_000


def test_user_file_and_missing_file(tmp_path: Path):
    f = tmp_path / "mine.txt"
    f.write_bytes("héllo".encode())
    assert load_corpus_bytes(path=f) == "héllo".encode()
    with pytest.raises(ConfigError, match="file not found"):
        load_corpus_bytes(path=tmp_path / "nope.txt")
    with pytest.raises(ConfigError, match="unknown corpus"):
        load_corpus_bytes(corpus="wikipedia")


def test_validation_is_the_tail_and_too_short_is_an_error():
    s = ByteSplits.from_bytes(bytes(range(100)), val_frac=0.2, seq_len=8)
    assert s.val.tolist() == list(range(80, 100))
    assert s.train.tolist() == list(range(80))
    with pytest.raises(ConfigError, match="seq_len"):
        ByteSplits.from_bytes(bytes(100), val_frac=0.05, seq_len=8)


def test_windows_targets_are_next_bytes():
    stream = torch.arange(50)
    x, y = sample_windows(stream, 6, 10, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (6, 10)
    assert torch.equal(y, x + 1)


def test_digits_split_is_seeded_and_disjoint():
    a = load_digits_splits(100, seed=0)
    b = load_digits_splits(100, seed=0)
    c = load_digits_splits(100, seed=1)
    assert len(a.y_train) == 100 and len(a.y_val) == 1797 - 100
    assert torch.equal(a.x_train, b.x_train) and not torch.equal(a.x_train, c.x_train)
    assert float(a.x_train.max()) <= 1.0
    with pytest.raises(ConfigError):
        load_digits_splits(5000, seed=0)
