"""Augment labelled text: K new rows per example, each keeping its source row's label.

Deterministic: example i's copies draw from `random.Random(f"{seed}:{i}")`, so the output does
not depend on batch size or order. Back-translation is deterministic by itself; its k-th copy is
the text translated round-trip k times (each round drifts a little further from the original).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scalelab.core.errors import ConfigError
from scalelab.data.eda import EDA_OPERATIONS, WordNetSynonyms, eda, replace_synonyms
from scalelab.data.translate import Translator, apertium_back_translator

METHODS = ("synonym", "eda", "backtranslate")
SYNONYM_RATE = 0.1  # share of words replaced (at least one), as EDA's alpha (Wei & Zou 2019)


@dataclass(frozen=True)
class Augmented:
    """New rows only; `source_index[j]` is the original row new row j was made from."""

    method: str
    texts: tuple[str, ...]
    labels: tuple[str, ...]
    source_index: tuple[int, ...]
    changed_frac: float  # new rows whose text differs from their source
    seconds: float
    backend: str = ""

    @property
    def rows_per_s(self) -> float:
        return len(self.texts) / self.seconds if self.seconds > 0 else float("inf")


def _word_copies(
    texts: Sequence[str], method: str, per_example: int, seed: int, synonyms: WordNetSynonyms
) -> list[list[str]]:
    copies = []
    for i, text in enumerate(texts):
        rng = random.Random(f"{seed}:{i}")
        if method == "synonym":
            n = max(1, round(SYNONYM_RATE * len(text.split())))
            copies.append([replace_synonyms(text, rng, synonyms, n) for _ in range(per_example)])
        else:  # one EDA operation per copy, cycling so every operation is used (Wei & Zou sec. 2)
            ops = [EDA_OPERATIONS[(i + k) % len(EDA_OPERATIONS)] for k in range(per_example)]
            copies.append([eda(text, op, rng, synonyms) for op in ops])
    return copies


def _translated_copies(
    texts: Sequence[str], per_example: int, translator: Translator
) -> list[list[str]]:
    rounds, current = [], list(texts)
    for _ in range(per_example):
        current = translator.translate(current)
        rounds.append(current)
    return [[rounds[k][i] for k in range(per_example)] for i in range(len(texts))]


def augment(
    texts: Sequence[str],
    labels: Sequence[str],
    method: str,
    per_example: int = 1,
    seed: int = 0,
    translator: Translator | None = None,
    synonyms: WordNetSynonyms | None = None,
    progress: Callable[[int], None] | None = None,
) -> Augmented:
    """`per_example` augmented copies of every (text, label); labels are copied unchanged."""
    if method not in METHODS:
        raise ConfigError(f"--method: unknown method {method!r} (choose {', '.join(METHODS)})")
    if per_example < 1:
        raise ConfigError(f"--per-example: must be at least 1 (got {per_example})")
    if len(texts) != len(labels):
        raise ValueError("texts and labels differ in length")
    start = time.perf_counter()
    backend = ""
    if method == "backtranslate":
        mt: Translator = translator or apertium_back_translator()
        backend = mt.name
        copies = _translated_copies(texts, per_example, mt)
    else:
        synonyms = synonyms or WordNetSynonyms()
        backend = "WordNet 3.0 (NLTK reader)"
        copies = _word_copies(texts, method, per_example, seed, synonyms)
    new_texts, new_labels, sources = [], [], []
    for i, row in enumerate(copies):
        for text in row:
            new_texts.append(text)
            new_labels.append(labels[i])
            sources.append(i)
        if progress is not None:
            progress(i + 1)
    changed = sum(t != texts[s] for t, s in zip(new_texts, sources, strict=True))
    return Augmented(
        method=method,
        texts=tuple(new_texts),
        labels=tuple(new_labels),
        source_index=tuple(sources),
        changed_frac=changed / len(new_texts) if new_texts else 0.0,
        seconds=time.perf_counter() - start,
        backend=backend,
    )
