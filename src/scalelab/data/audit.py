"""Audit a labelled text set before training on it: class balance, exact/normalized/near
duplicates and the ones that leak from train into test, retweets, vocabulary coverage of test by
train, and representation by group (labels per group, terms tied to a group, accuracy per group).

Streams the rows (twice: map/reduce, then the few example texts and the per-group classifier).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from scalelab.core.errors import ConfigError
from scalelab.data.audit_stats import AuditState, audit_map, audit_reduce, in_test
from scalelab.data.dedup import NEAR_THRESHOLD, Row, near_clusters
from scalelab.data.mapreduce import Executor, LocalExecutor, chunked, map_reduce
from scalelab.data.text import STOP_WORDS

CHUNK_ROWS = 2000
MAX_EXAMPLES = 3
MAX_GROUPS = 10  # groups shown (largest first)
CLASSIFIER_ROWS = 20000  # rows per split the per-group classifier trains/tests on, at most


@dataclass(frozen=True)
class AuditResult:
    """Every finding with counts; `examples` maps a finding to a few (row id, text) pairs."""

    name: str
    num_rows: int
    num_test_rows: int
    class_counts: dict[str, int]
    imbalance_ratio: float  # largest class / smallest class
    duplicates: dict[str, int]
    retweets: dict[str, int]
    leakage: dict[str, int]
    coverage: dict[str, float]
    groups: dict[str, Any]
    examples: dict[str, list[tuple[int, str]]]
    engine: str
    seconds: float
    notes: list[str] = field(default_factory=list)


def numbered_rows(
    rows: Iterable[tuple[str, str, str | None]], seed: int, test_frac: float
) -> Iterable[Row]:
    for i, (text, label, group) in enumerate(rows):
        yield i, text, label, group, in_test(i, seed, test_frac)


def _dup_counts(pairs: list[tuple[int, int]], labels: list[str]) -> tuple[int, int, int]:
    groups: dict[int, set[str]] = {}
    for dup, first in pairs:
        groups.setdefault(first, {labels[first]}).add(labels[dup])
    conflicting = sum(1 for labs in groups.values() if len(labs) > 1)
    return len(pairs), len(groups), conflicting


def _groups_of(pairs: Iterable[tuple[int, int]]) -> list[list[int]]:
    """(duplicate, first) pairs -> groups of row ids that are copies of each other."""
    groups: dict[int, list[int]] = {}
    for dup, first in pairs:
        groups.setdefault(first, [first]).append(dup)
    return list(groups.values())


def _leaks(groups: Iterable[list[int]], test: bytearray) -> set[int]:
    """Test rows that have a copy in train: every test member of a group with a train member."""
    leaked: set[int] = set()
    for members in groups:
        if any(not test[m] for m in members):
            leaked.update(m for m in members if test[m])
    return leaked


def _findings(state: AuditState) -> tuple[dict, dict, dict, dict[str, list[int]]]:
    d, labels, test = state.dedup, state.labels, state.test_flags
    exact_rows, exact_groups, conflicting = _dup_counts(d.exact_pairs, labels)
    norm_rows, norm_groups, _ = _dup_counts(d.norm_pairs, labels)
    clusters = near_clusters(d)
    near_rows = sum(len(c) - 1 for c in clusters)
    duplicates = {
        "exact_duplicate_rows": exact_rows,
        "exact_duplicate_groups": exact_groups,
        "groups_with_conflicting_labels": conflicting,
        "normalized_duplicate_rows": norm_rows,
        "near_duplicate_rows": near_rows,
        "near_duplicate_clusters": len(clusters),
        "near_only_rows": max(0, near_rows - norm_rows),
    }
    exact_leaks = _leaks(_groups_of(d.exact_pairs), test)
    near_leaks = _leaks(clusters, test) | _leaks(_groups_of(d.norm_pairs), test)
    leakage = {"test_rows_with_exact_copy_in_train": len(exact_leaks),
               "test_rows_with_near_copy_in_train": len(near_leaks)}  # fmt: skip
    originals = {key for key in d.first_norm}
    rts = state.retweets
    retweets = {"retweet_rows": len(rts),
                "retweets_of_a_row_in_the_set": sum(k in originals for _, k in rts)}  # fmt: skip
    big = max(clusters, key=len) if clusters else []
    example_ids = {
        "exact duplicates": [first for _, first in d.exact_pairs[:MAX_EXAMPLES]],
        "largest near-duplicate cluster": big[:MAX_EXAMPLES],
        "leaked into test": sorted(near_leaks)[:MAX_EXAMPLES],
        "retweets": [row for row, _ in rts[:MAX_EXAMPLES]],
    }
    return duplicates, leakage, retweets, example_ids


def _coverage(state: AuditState) -> dict[str, float]:
    train, test = state.train_words, state.test_words
    test_tokens = sum(test.values())
    oov_tokens = sum(n for w, n in test.items() if w not in train)
    return {
        "train_vocabulary": float(len(train)),
        "test_vocabulary": float(len(test)),
        "test_oov_type_frac": sum(w not in train for w in test) / len(test) if test else 0.0,
        "test_oov_token_frac": oov_tokens / test_tokens if test_tokens else 0.0,
        "mean_words_per_row": state.num_words / max(1, len(state.labels)),
        "empty_rows": float(state.num_empty),
    }


def associated_terms(group_words: dict[str, Counter], group: str, top: int = 8) -> list[str]:
    """Words most tied to `group` vs all other groups: log-odds ratio with an informative
    Dirichlet prior, z-scored (Monroe, Colaresi & Quinn 2008, "Fightin' Words", eqs. 16-22)."""
    total: Counter = Counter()
    for counts in group_words.values():
        total.update(counts)
    mine = group_words[group]
    n_all, n_mine = sum(total.values()), sum(mine.values())
    prior_scale = 0.01  # alpha_w = 1% of the word's corpus count (alpha_0 = 1% of the corpus)
    a0 = prior_scale * n_all
    scored = []
    for w, c_all in total.items():
        if c_all < 5 or w in STOP_WORDS or not w.isalpha():
            continue
        a, y_i = prior_scale * c_all, mine.get(w, 0)
        y_j, n_j = c_all - y_i, n_all - n_mine
        delta = math.log((y_i + a) / (n_mine + a0 - y_i - a)) - math.log(
            (y_j + a) / (n_j + a0 - y_j - a)
        )
        scored.append((delta / math.sqrt(1 / (y_i + a) + 1 / (y_j + a)), w))
    return [w for _, w in sorted(scored, reverse=True)[:top]]


def _groups(state: AuditState, accuracy: dict[str, tuple[float, int]]) -> dict[str, Any]:
    if not state.group_words:
        return {}
    sizes: Counter[str] = Counter()
    for (group, _), n in state.group_labels.items():
        sizes[group] += n
    shown = [g for g, _ in sizes.most_common(MAX_GROUPS)]
    table = {}
    for g in shown:
        labels = {lab: n for (grp, lab), n in state.group_labels.items() if grp == g}
        table[g] = {
            "rows": sizes[g],
            "label_frac": {lab: n / sizes[g] for lab, n in sorted(labels.items())},
            "terms": associated_terms(state.group_words, g),
            "test_accuracy_frac": accuracy.get(g, (float("nan"), 0))[0],
            "test_rows": accuracy.get(g, (float("nan"), 0))[1],
        }
    return {"num_groups": len(sizes), "shown": table}


def _second_pass(
    rows: Iterable[Row], wanted: set[int], with_groups: bool
) -> tuple[dict[int, str], dict[str, tuple[float, int]]]:
    """Example texts by row id; and, with groups, a classifier's test accuracy per group."""
    texts: dict[int, str] = {}
    train: list[Row] = []
    test: list[Row] = []
    for row in rows:
        if row[0] in wanted:
            texts[row[0]] = row[1]
        if with_groups:
            split = test if row[4] else train
            if len(split) < CLASSIFIER_ROWS:
                split.append(row)
    accuracy: dict[str, tuple[float, int]] = {}
    if with_groups and len({r[2] for r in train}) > 1 and test:
        from scalelab.data.classify import fit_classifier, make_vectorizer, require_sklearn

        require_sklearn()
        vectorizer = make_vectorizer([r[1] for r in train])
        classes = sorted({r[2] for r in train})
        y = [classes.index(r[2]) for r in train]
        import numpy as np

        model = fit_classifier(vectorizer.transform([r[1] for r in train]), np.array(y))
        predicted = model.predict(vectorizer.transform([r[1] for r in test]))
        hits: dict[str, list[int]] = {}
        for row, p in zip(test, predicted, strict=True):
            hits.setdefault(row[3] or "", []).append(int(classes[int(p)] == row[2]))
        accuracy = {g: (sum(h) / len(h), len(h)) for g, h in hits.items()}
    return texts, accuracy


def audit(
    rows: Callable[[], Iterable[tuple[str, str, str | None]]],
    name: str,
    executor: Executor | None = None,
    test_frac: float = 0.2,
    seed: int = 0,
    chunk_rows: int = CHUNK_ROWS,
) -> AuditResult:
    """Audit the rows that `rows()` streams (called twice). The test split is a fixed
    pseudo-random `test_frac` of rows by id."""
    if not 0.0 < test_frac < 1.0:
        raise ConfigError(f"--test-frac: must be in (0, 1) (got {test_frac})")
    start = time.perf_counter()
    executor = executor or LocalExecutor()
    chunks = chunked(numbered_rows(rows(), seed, test_frac), chunk_rows)
    state = map_reduce(chunks, audit_map, audit_reduce, AuditState(), executor)
    if not state.labels:
        raise ConfigError(f"{name}: empty file (no rows)")
    duplicates, leakage, retweets, example_ids = _findings(state)
    wanted = {i for ids in example_ids.values() for i in ids}
    texts, accuracy = _second_pass(
        numbered_rows(rows(), seed, test_frac), wanted, bool(state.group_words)
    )
    counts = dict(sorted(Counter(state.labels).items()))
    return AuditResult(
        name=name,
        num_rows=len(state.labels),
        num_test_rows=sum(state.test_flags),
        class_counts=counts,
        imbalance_ratio=max(counts.values()) / min(counts.values()),
        duplicates=duplicates,
        retweets=retweets,
        leakage=leakage,
        coverage=_coverage(state),
        groups=_groups(state, accuracy),
        examples={k: [(i, texts.get(i, "")) for i in ids] for k, ids in example_ids.items()},
        engine=executor.name,
        seconds=time.perf_counter() - start,
        notes=[f"near duplicates: MinHash/LSH, Jaccard >= {NEAR_THRESHOLD} of word 3-shingles"],
    )
