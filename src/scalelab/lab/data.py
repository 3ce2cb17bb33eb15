"""Data for the lab: byte-level text (the shipped corpus or any file) and scikit-learn's digits.

Text is read as raw bytes (vocab 256), so any file works without a tokenizer to train.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import torch

from scalelab.core.errors import ConfigError

BUILTIN_CORPORA = {
    # Shakespeare's Sonnets (1609), public domain; Project Gutenberg etext 1041, see docs/lab.md.
    "shakespeare-sonnets": "shakespeare_sonnets.txt",
}


def load_corpus_bytes(corpus: str | None = None, path: Path | None = None) -> bytes:
    """The bytes of a built-in corpus by name, or of a text file the user names."""
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"data.path: file not found: {path}")
        return path.read_bytes()
    name = corpus or "shakespeare-sonnets"
    if name not in BUILTIN_CORPORA:
        raise ConfigError(
            f"data.corpus: unknown corpus {name!r} (built in: {', '.join(BUILTIN_CORPORA)})"
        )
    return (resources.files("scalelab.lab") / "corpus" / BUILTIN_CORPORA[name]).read_bytes()


@dataclass(frozen=True)
class ByteSplits:
    """Train and validation token streams (int64 byte values); validation is the file's tail."""

    train: torch.Tensor
    val: torch.Tensor

    @classmethod
    def from_bytes(cls, data: bytes, val_frac: float, seq_len: int) -> ByteSplits:
        tokens = torch.frombuffer(bytearray(data), dtype=torch.uint8).to(torch.int64)
        n_val = int(len(tokens) * val_frac)
        splits = cls(train=tokens[: len(tokens) - n_val], val=tokens[len(tokens) - n_val :])
        for name, stream in (("train", splits.train), ("validation", splits.val)):
            if len(stream) <= seq_len:
                raise ConfigError(
                    f"data: the {name} split has {len(stream)} bytes, fewer than model.seq_len + 1 "
                    f"({seq_len + 1}); use a longer text, a smaller seq_len or another val_frac"
                )
        return splits


def sample_windows(
    stream: torch.Tensor, batch_size: int, seq_len: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random windows (inputs, next-byte targets), each (batch_size, seq_len)."""
    starts = torch.randint(0, len(stream) - seq_len, (batch_size,), generator=generator)
    offsets = torch.arange(seq_len + 1)
    windows = stream[starts[:, None] + offsets[None, :]]
    return windows[:, :-1], windows[:, 1:]


@dataclass(frozen=True)
class ArraySplits:
    """A classification data set as train/validation tensors (features float32, labels int64)."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor


def load_digits_splits(num_train: int, seed: int, standardize: bool = False) -> ArraySplits:
    """scikit-learn's 8x8 digits (1,797 images, shipped with the package): a seeded random split.

    Pixels are scaled to [0, 1]; `standardize` also centers each feature on the train split.
    """
    from sklearn.datasets import load_digits

    x_np, y_np = load_digits(return_X_y=True)
    if not 0 < num_train < len(y_np):
        raise ConfigError(f"--num-train must be in 1..{len(y_np) - 1}, got {num_train}")
    x = torch.tensor(x_np / 16.0, dtype=torch.float32)
    y = torch.tensor(y_np, dtype=torch.int64)
    perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))
    tr, va = perm[:num_train], perm[num_train:]
    if standardize:
        mean, std = x[tr].mean(0), x[tr].std(0) + 1e-6
        x = (x - mean) / std
    return ArraySplits(x[tr], y[tr], x[va], y[va])
