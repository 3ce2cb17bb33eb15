"""Self-training (Scudder 1965; Yarowsky 1995, ACL): a classifier trained on few labels labels an
unlabeled pool where it is confident, is retrained on labels + pseudo-labels, and repeats.

The TF-IDF vocabulary is fitted on the labeled and unlabeled texts together (no labels used), so
a baseline given the same vectorizer isolates what the pseudo-labels themselves add.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from scalelab.core.errors import ConfigError
from scalelab.data.classify import fit_classifier, make_vectorizer

DEFAULT_THRESHOLD = (
    0.6  # LR on TF-IDF with 10-100 labels per class rarely exceeds 0.8 (docs/data.md)
)
DEFAULT_ROUNDS = 3
# Each round adds the same share (at most GROWTH) of every class's labeled count, most confident
# first: with a plain threshold the majority prediction floods the pool and the model collapses
# onto it (measured on rt: macro-F1 -0.10), cf. Blum & Mitchell 1998 (sec. 5), who add a fixed
# number of each class per round.
DEFAULT_GROWTH = 1.0


@dataclass(frozen=True)
class RoundStats:
    round: int
    num_added: int
    num_pseudo_total: int
    pseudo_accuracy_frac: float | None  # against held-back true labels, when the caller has them


@dataclass(frozen=True)
class SelfTrainResult:
    model: object
    vectorizer: object
    pseudo_index: tuple[int, ...]  # rows of the pool that received a pseudo-label
    pseudo_labels: tuple[int, ...]
    rounds: tuple[RoundStats, ...]
    threshold_frac: float


def self_train(
    labeled_texts: Sequence[str],
    labels: np.ndarray,
    pool_texts: Sequence[str],
    threshold_frac: float = DEFAULT_THRESHOLD,
    rounds: int = DEFAULT_ROUNDS,
    seed: int = 0,
    pool_truth: np.ndarray | None = None,
    growth: float = DEFAULT_GROWTH,
) -> SelfTrainResult:
    """Pseudo-label pool rows whose top class probability >= threshold, for `rounds` rounds."""
    if not 0.0 < threshold_frac < 1.0:
        raise ConfigError(f"--threshold: must be in (0, 1) (got {threshold_frac})")
    if rounds < 1:
        raise ConfigError(f"--rounds: must be at least 1 (got {rounds})")
    vectorizer = make_vectorizer([*labeled_texts, *pool_texts])
    x_labeled = vectorizer.transform(list(labeled_texts))
    x_pool = vectorizer.transform(list(pool_texts)) if len(pool_texts) else None
    pseudo = np.full(len(pool_texts), -1, dtype=np.int64)
    stats = []
    model = fit_classifier(x_labeled, labels, seed)
    for r in range(1, rounds + 1):
        remaining = np.flatnonzero(pseudo < 0)
        if x_pool is None or remaining.size == 0:
            break
        proba = model.predict_proba(x_pool[remaining])
        chosen, chosen_labels = _select(proba, model.classes_, labels, threshold_frac, growth)
        chosen = remaining[chosen]
        pseudo[chosen] = chosen_labels
        taken = np.flatnonzero(pseudo >= 0)
        truth = None
        if pool_truth is not None and taken.size:
            truth = float((pseudo[taken] == pool_truth[taken]).mean())
        stats.append(RoundStats(r, int(chosen.size), int(taken.size), truth))
        if chosen.size == 0:
            break
        features = _stack(x_labeled, x_pool[taken])
        model = fit_classifier(features, np.concatenate([labels, pseudo[taken]]), seed)
    taken = np.flatnonzero(pseudo >= 0)
    return SelfTrainResult(
        model=model,
        vectorizer=vectorizer,
        pseudo_index=tuple(int(i) for i in taken),
        pseudo_labels=tuple(int(v) for v in pseudo[taken]),
        rounds=tuple(stats),
        threshold_frac=threshold_frac,
    )


def _select(
    proba: np.ndarray, classes: np.ndarray, labels: np.ndarray, threshold: float, growth: float
) -> tuple[np.ndarray, np.ndarray]:
    """Rows (indices into proba) to pseudo-label and their labels: above the threshold, the same
    share of every class's labeled count (the class with fewest confident rows sets it), most
    confident first; nothing when some class has no confident row."""
    confidence, predicted = proba.max(axis=1), classes[proba.argmax(axis=1)]
    candidates, counts = [], []
    for c in classes:
        rows = np.flatnonzero((predicted == c) & (confidence >= threshold))
        candidates.append(rows[np.argsort(-confidence[rows], kind="stable")])
        counts.append(max(1, int(np.count_nonzero(labels == c))))
    share = min([growth] + [len(rows) / n for rows, n in zip(candidates, counts, strict=True)])
    picked = [rows[: int(share * n)] for rows, n in zip(candidates, counts, strict=True)]
    values = [
        np.full(rows.size, c, dtype=np.int64) for rows, c in zip(picked, classes, strict=True)
    ]
    return np.concatenate(picked), np.concatenate(values)


def _stack(a: object, b: object) -> object:
    from scipy.sparse import vstack

    return vstack([a, b]).tocsr()
