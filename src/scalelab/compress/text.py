"""The classification task: a shipped labelled text set, a word vocabulary, fixed-length ids.

Words are lower-cased alphanumeric runs; the vocabulary keeps the most frequent training words
(ties broken alphabetically, so it is the same on every machine). Ids: 0 <pad>, 1 <cls>, 2 <unk>.
The split is stratified and seeded: the same texts are held out for every variant of a model.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from scalelab.compress.models import CLS_ID, PAD_ID
from scalelab.core.errors import ConfigError
from scalelab.data.datasets import TextDataset, load_dataset

UNK_ID = 2
SPECIALS = ("<pad>", "<cls>", "<unk>")
TEST_FRAC = 0.2
SPLIT_SEED = 0
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class Vocabulary:
    """Index = token id."""

    tokens: tuple[str, ...]

    @classmethod
    def build(cls, texts: Sequence[str], size: int) -> Vocabulary:
        counts = Counter(w for t in texts for w in words(t))
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        return cls(SPECIALS + tuple(w for w, _ in ranked[: size - len(SPECIALS)]))

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, texts: Sequence[str], max_len: int) -> torch.Tensor:
        """(N, max_len) int64: <cls>, the first max_len - 1 words, then <pad>."""
        index = {w: i for i, w in enumerate(self.tokens)}
        out = torch.full((len(texts), max_len), PAD_ID, dtype=torch.int64)
        out[:, 0] = CLS_ID
        for row, text in enumerate(texts):
            ids = [index.get(w, UNK_ID) for w in words(text)[: max_len - 1]]
            out[row, 1 : 1 + len(ids)] = torch.tensor(ids, dtype=torch.int64)
        return out


@dataclass(frozen=True)
class Split:
    ids: torch.Tensor  # (N, max_len) int64
    labels: torch.Tensor  # (N,) int64

    def __len__(self) -> int:
        return len(self.labels)


@dataclass(frozen=True)
class TextTask:
    """A data set encoded for one model: train and held-out test splits."""

    dataset: str
    class_names: tuple[str, ...]
    vocab: Vocabulary
    max_len: int
    train: Split
    test: Split


def split_indices(labels: np.ndarray, test_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (train, test) indices: each class contributes round(test_frac * count) to test."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_test = int(round(test_frac * len(idx)))
        test.append(idx[:n_test])
        train.append(idx[n_test:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def make_task(
    data: TextDataset, vocab_size: int, max_len: int, vocab: Vocabulary | None = None
) -> TextTask:
    """Split, build the vocabulary on the training texts only (unless given), encode both splits."""
    labels = data.label_ids()
    tr, te = split_indices(labels, TEST_FRAC, SPLIT_SEED)
    if min(len(tr), len(te)) == 0:
        raise ConfigError(f"data set {data.name!r}: too few texts to hold out a test split")
    train_texts = [data.texts[i] for i in tr]
    vocab = vocab or Vocabulary.build(train_texts, vocab_size)
    return TextTask(
        dataset=data.name,
        class_names=data.class_names,
        vocab=vocab,
        max_len=max_len,
        train=Split(vocab.encode(train_texts, max_len), torch.from_numpy(labels[tr])),
        test=Split(
            vocab.encode([data.texts[i] for i in te], max_len), torch.from_numpy(labels[te])
        ),
    )


def load_task(
    dataset: str, vocab_size: int, max_len: int, vocab: Vocabulary | None = None
) -> TextTask:
    """A shipped data set by name (scalelab.data's load_dataset), encoded."""
    return make_task(load_dataset(dataset), vocab_size, max_len, vocab)
