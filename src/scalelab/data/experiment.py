"""Does augmentation or self-training help when labels are few? Measured, never assumed.

For each seed: exact duplicates (normalized text) are dropped, a random test set is held out, and
for each labels-per-class budget the same labeled sample trains the baseline and each technique.
Gains are paired per seed, and a paired t-test over seeds gives the verdict (alpha = 0.05).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from scalelab.core.errors import ConfigError
from scalelab.data.augment import augment
from scalelab.data.classify import Scores, require_sklearn, train_and_score
from scalelab.data.datasets import TextDataset
from scalelab.data.eda import WordNetSynonyms
from scalelab.data.selftrain import DEFAULT_ROUNDS, DEFAULT_THRESHOLD, self_train
from scalelab.data.text import normalize
from scalelab.data.translate import Translator, apertium_back_translator

ALPHA = 0.05  # significance level of the paired t-test
KINDS = ("augmentation", "self-training")
AUGMENTATIONS = ("synonym", "eda", "backtranslate")


@dataclass(frozen=True)
class ExperimentConfig:
    kind: str = "augmentation"
    labels_per_class: tuple[int, ...] = (10, 20, 50, 100)
    seeds: int = 5
    techniques: tuple[str, ...] = AUGMENTATIONS
    test_size: int = 1000
    per_example: int = 4  # augmented copies per labeled example
    pool_size: int = 2000  # unlabeled rows offered to self-training
    threshold_frac: float = DEFAULT_THRESHOLD
    rounds: int = DEFAULT_ROUNDS


@dataclass(frozen=True)
class Comparison:
    """One technique at one label budget: per-seed scores of the baseline and the technique."""

    technique: str
    labels_per_class: int
    baseline_acc: tuple[float, ...]
    technique_acc: tuple[float, ...]
    baseline_f1: tuple[float, ...]
    technique_f1: tuple[float, ...]
    p_value: float
    verdict: str

    @property
    def gain_f1(self) -> tuple[float, float]:
        """Mean and sample std over seeds of (technique - baseline) macro-F1."""
        return _mean_std(np.subtract(self.technique_f1, self.baseline_f1))

    @property
    def gain_acc(self) -> tuple[float, float]:
        return _mean_std(np.subtract(self.technique_acc, self.baseline_acc))


@dataclass(frozen=True)
class ExperimentResult:
    dataset: str
    config: ExperimentConfig
    comparisons: tuple[Comparison, ...]
    overall: dict[str, tuple[float, float, str]]  # technique -> (mean F1 gain, p, verdict)
    num_test: int
    num_duplicates_dropped: int
    seconds: float
    notes: tuple[str, ...] = field(default_factory=tuple)


def _mean_std(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    return float(values.mean()), float(values.std(ddof=1)) if values.size > 1 else 0.0


def paired_verdict(technique: Sequence[float], baseline: Sequence[float]) -> tuple[float, str]:
    """Two-sided paired t-test (scipy.stats.ttest_rel); verdict helps / hurts / no effect."""
    from scipy.stats import ttest_rel

    diff = np.subtract(technique, baseline)
    if diff.size < 2 or np.allclose(diff, diff[0]):
        p = 0.0 if diff.size >= 2 and diff[0] != 0 else 1.0  # identical gains: no variance
    else:
        p = float(ttest_rel(technique, baseline).pvalue)
    if p < ALPHA and diff.mean() > 0:
        return p, "helps"
    if p < ALPHA and diff.mean() < 0:
        return p, "hurts"
    return p, "no measurable effect"


class _CachedTranslator:
    """Back-translation is deterministic: translate each distinct text once across seeds."""

    def __init__(self, inner: Translator) -> None:
        self.inner = inner
        self.cache: dict[str, str] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    def prefetch(self, texts: Sequence[str], rounds: int) -> None:
        """Translate everything the runs will ask for in one call per round: each Apertium call
        pays ~0.3 s of start-up, which would otherwise dominate."""
        current = list(texts)
        for _ in range(rounds):
            current = self.translate(current)

    def translate(self, texts: Sequence[str]) -> list[str]:
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if todo:
            self.cache.update(zip(todo, self.inner.translate(todo), strict=True))
        return [self.cache[t] for t in texts]


def _split(data: TextDataset, keep: np.ndarray, seed: int, test_size: int):
    rng = np.random.default_rng(seed)
    order = keep[rng.permutation(keep.size)]
    return order[:test_size], order[test_size:]


def _labeled(rest: np.ndarray, y: np.ndarray, n: int, classes: Sequence[str]) -> np.ndarray:
    chosen = []
    for c, name in enumerate(classes):
        rows = rest[y[rest] == c]
        if rows.size < n:
            raise ConfigError(
                f"--labels-per-class: {n} is more than class {name!r} has "
                f"({rows.size} rows outside the test set)"
            )
        chosen.append(rows[:n])
    return np.concatenate(chosen)


def run_experiment(
    data: TextDataset,
    config: ExperimentConfig,
    translator: Translator | None = None,
    progress: Callable[[str], None] | None = None,
) -> ExperimentResult:
    """Baseline vs each technique over seeds and label budgets (see the module docstring)."""
    require_sklearn()
    from threadpoolctl import threadpool_limits

    if config.kind not in KINDS:
        raise ConfigError(f"experiment: unknown kind {config.kind!r} (choose {', '.join(KINDS)})")
    if config.seeds < 2:
        raise ConfigError("--seeds: need at least 2 seeds for a paired test")
    start = time.perf_counter()
    texts, y = data.texts, data.label_ids()
    keep = np.array(sorted({normalize(t): i for i, t in reversed(list(enumerate(texts)))}.values()))
    test_size = min(config.test_size, keep.size // 3)
    techniques = config.techniques if config.kind == "augmentation" else ("self-training",)
    splits = [_split(data, keep, seed, test_size) for seed in range(config.seeds)]
    labeled_sets = {
        (seed, n): _labeled(rest, y, n, data.class_names)  # checks every budget before any work
        for seed, (_, rest) in enumerate(splits)
        for n in config.labels_per_class
    }
    if "backtranslate" in techniques:
        cached = _CachedTranslator(translator or apertium_back_translator())
        needed = {int(i) for rows in labeled_sets.values() for i in rows}
        cached.prefetch([texts[i] for i in sorted(needed)], config.per_example)
        translator = cached
    synonyms = WordNetSynonyms() if {"synonym", "eda"} & set(techniques) else None
    scores: dict[tuple[str, int], list[tuple[Scores, Scores]]] = {}
    with threadpool_limits(1):  # BLAS threads fight over 2 cores on these tiny problems
        for seed, (test, rest) in enumerate(splits):
            for n in sorted(config.labels_per_class):
                labeled = labeled_sets[seed, n]
                if progress is not None:
                    progress(f"seed {seed}, {n} labels per class")
                run = _run_augmentation if config.kind == "augmentation" else _run_self_training
                for technique, pair in run(data, y, labeled, rest, test, seed, config, synonyms,
                                           translator):  # fmt: skip
                    scores.setdefault((technique, n), []).append(pair)
    comparisons = tuple(_compare(t, n, pairs) for (t, n), pairs in scores.items())
    return ExperimentResult(
        dataset=data.name,
        config=config,
        comparisons=comparisons,
        overall={t: _overall(t, scores) for t in techniques},
        num_test=test_size,
        num_duplicates_dropped=len(texts) - keep.size,
        seconds=time.perf_counter() - start,
    )


def _overall(
    technique: str, scores: dict[tuple[str, int], list[tuple[Scores, Scores]]]
) -> tuple[float, float, str]:
    """Mean macro-F1 gain, p and verdict over every (budget, seed) pair of one technique."""
    pairs = [p for (t, _), ps in scores.items() if t == technique for p in ps]
    base, tech = [b.macro_f1_frac for b, _ in pairs], [t.macro_f1_frac for _, t in pairs]
    p, verdict = paired_verdict(tech, base)
    return float(np.mean(np.subtract(tech, base))), p, verdict


def _compare(technique: str, n: int, pairs: list[tuple[Scores, Scores]]) -> Comparison:
    base_f1 = tuple(b.macro_f1_frac for b, _ in pairs)
    tech_f1 = tuple(t.macro_f1_frac for _, t in pairs)
    p, verdict = paired_verdict(tech_f1, base_f1)
    return Comparison(
        technique=technique,
        labels_per_class=n,
        baseline_acc=tuple(b.accuracy_frac for b, _ in pairs),
        technique_acc=tuple(t.accuracy_frac for _, t in pairs),
        baseline_f1=base_f1,
        technique_f1=tech_f1,
        p_value=p,
        verdict=verdict,
    )


def _run_augmentation(data, y, labeled, rest, test, seed, config, synonyms, translator):
    texts = [data.texts[i] for i in labeled]
    test_texts = [data.texts[i] for i in test]
    baseline, _ = train_and_score(texts, y[labeled], test_texts, y[test], seed=seed)
    for technique in config.techniques:
        labels = [str(v) for v in y[labeled]]
        aug = augment(texts, labels, technique, config.per_example, seed, translator, synonyms)
        train = texts + list(aug.texts)
        train_y = np.concatenate([y[labeled], np.array(aug.labels, dtype=np.int64)])
        result, _ = train_and_score(train, train_y, test_texts, y[test], seed=seed)
        yield technique, (baseline, result)


def _run_self_training(data, y, labeled, rest, test, seed, config, synonyms, translator):
    pool = np.setdiff1d(rest, labeled, assume_unique=True)[: config.pool_size]
    texts = [data.texts[i] for i in labeled]
    pool_texts = [data.texts[i] for i in pool]
    test_texts = [data.texts[i] for i in test]
    baseline, _ = train_and_score(
        texts, y[labeled], test_texts, y[test], vectorizer_texts=texts + pool_texts, seed=seed
    )
    st = self_train(
        texts, y[labeled], pool_texts, config.threshold_frac, config.rounds, seed, y[pool]
    )
    predicted = st.model.predict(st.vectorizer.transform(test_texts))  # type: ignore[attr-defined]
    from scalelab.data.classify import score

    yield "self-training", (baseline, score(y[test], predicted))
