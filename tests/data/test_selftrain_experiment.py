"""data/selftrain.py and data/experiment.py: pseudo-labels on a separable synthetic task, the
balanced selection, the paired test's verdicts, and the experiment's shape and guards."""

from __future__ import annotations

import random

import numpy as np
import pytest

from scalelab.core.errors import ConfigError
from scalelab.data.datasets import TextDataset
from scalelab.data.experiment import ExperimentConfig, paired_verdict, run_experiment
from scalelab.data.selftrain import _select, self_train

TOPICS = {
    "sport": "goal match team player score coach league win season referee".split(),
    "money": "bank market price stock profit share trade rate fund loan".split(),
}
FILLER = "today news said new people time year week report city".split()


def synthetic(n_per_class: int = 300, seed: int = 0) -> TextDataset:
    rng = random.Random(seed)
    texts, labels = [], []
    for label, words in TOPICS.items():
        for _ in range(n_per_class):
            picks = rng.sample(words, 2) + rng.sample(FILLER, 5)
            rng.shuffle(picks)
            texts.append(" ".join(picks))
            labels.append(label)
    return TextDataset("synthetic", tuple(texts), tuple(labels), tuple(sorted(TOPICS)), "test", "")


def test_self_training_pseudo_labels_are_right_on_a_separable_task():
    data = synthetic()
    y = data.label_ids()
    labeled = np.r_[0:5, 300:305]
    pool = np.r_[5:300, 305:600]
    result = self_train([data.texts[i] for i in labeled], y[labeled],
                        [data.texts[i] for i in pool], 0.55, 3, 0, y[pool])  # fmt: skip
    assert result.rounds and result.rounds[-1].num_pseudo_total > 10
    assert all(
        r.pseudo_accuracy_frac is None or r.pseudo_accuracy_frac > 0.9 for r in result.rounds
    )
    chosen = y[pool][list(result.pseudo_index)]
    assert abs(int((chosen == 0).sum()) - int((chosen == 1).sum())) <= 1  # balanced


def test_select_takes_the_same_share_of_every_class():
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.95, 0.05], [0.3, 0.7], [0.6, 0.4]])
    rows, labels = _select(proba, np.array([0, 1]), np.array([0, 1]), 0.65, growth=5.0)
    assert sorted(zip(rows.tolist(), labels.tolist(), strict=True)) == [(2, 0), (3, 1)]
    none, _ = _select(proba, np.array([0, 1]), np.array([0, 1]), 0.99, growth=5.0)
    assert none.size == 0  # a class without a confident row stops the round


def test_self_train_flag_checks():
    with pytest.raises(ConfigError, match="--threshold"):
        self_train(["a b", "c d"], np.array([0, 1]), ["e"], threshold_frac=1.5)
    with pytest.raises(ConfigError, match="--rounds"):
        self_train(["a b", "c d"], np.array([0, 1]), ["e"], rounds=0)


def test_paired_verdicts():
    base = [0.50, 0.52, 0.51, 0.49, 0.50]
    assert paired_verdict([b + 0.05 + 0.001 * i for i, b in enumerate(base)], base)[1] == "helps"
    assert paired_verdict([b - 0.05 - 0.001 * i for i, b in enumerate(base)], base)[1] == "hurts"
    noisy = [b + d for b, d in zip(base, [0.02, -0.02, 0.01, -0.01, 0.0], strict=True)]
    p, verdict = paired_verdict(noisy, base)
    assert verdict == "no measurable effect" and p > 0.5
    assert paired_verdict(base, base) == (1.0, "no measurable effect")


def test_experiment_shape_and_reproducibility():
    data = synthetic(120)
    config = ExperimentConfig("self-training", (5, 10), seeds=3, test_size=60, pool_size=100)
    first = run_experiment(data, config)
    again = run_experiment(data, config)
    assert [(c.technique, c.labels_per_class) for c in first.comparisons] == [
        ("self-training", 5), ("self-training", 10)]  # fmt: skip
    assert all(len(c.baseline_f1) == 3 for c in first.comparisons)
    assert [c.technique_f1 for c in first.comparisons] == [
        c.technique_f1 for c in again.comparisons
    ]
    assert set(first.overall) == {"self-training"}
    assert first.num_test == 60


def test_experiment_augmentation_with_synonyms():
    data = synthetic(60)
    config = ExperimentConfig("augmentation", (5,), seeds=2, techniques=("synonym", "eda"),
                              test_size=40, per_example=1)  # fmt: skip
    result = run_experiment(data, config)
    assert {c.technique for c in result.comparisons} == {"synonym", "eda"}
    assert all(0 <= f <= 1 for c in result.comparisons for f in c.technique_f1)


def test_too_many_labels_per_class_fails_before_any_work():
    data = synthetic(50)
    with pytest.raises(ConfigError, match="--labels-per-class: 500 is more than class"):
        run_experiment(data, ExperimentConfig("self-training", (10, 500), seeds=2, test_size=20))
    with pytest.raises(ConfigError, match="--seeds"):
        run_experiment(data, ExperimentConfig("self-training", (10,), seeds=1))
