"""The counting half of the dataset audit as map/reduce: class balance per split, vocabularies,
lengths, retweets, and label and term counts per group. Partial results are small counters."""

from __future__ import annotations

import hashlib
import re
import sys
from collections import Counter
from dataclasses import dataclass, field

from scalelab.data.dedup import DedupPartial, DedupState, Row, dedup_map, dedup_reduce, digest
from scalelab.data.text import normalize, words

RETWEET_RE = re.compile(r"^RT @\w+:?\s*")  # Twitter's manual-retweet prefix "RT @user: "


def in_test(row_id: int, seed: int, test_frac: float) -> bool:
    """A fixed pseudo-random split by row id (reproducible across machines and executors)."""
    h = hashlib.blake2b(f"{seed}:{row_id}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2.0**64 < test_frac


@dataclass
class StatsPartial:
    labels: list[str]
    test_flags: list[bool]
    split_labels: Counter = field(default_factory=Counter)  # (split, label) -> rows
    train_words: Counter = field(default_factory=Counter)
    test_words: Counter = field(default_factory=Counter)
    num_words: int = 0
    num_empty: int = 0
    retweets: list[tuple[int, bytes]] = field(default_factory=list)  # (row, original's key)
    group_labels: Counter = field(default_factory=Counter)  # (group, label) -> rows
    group_words: dict[str, Counter] = field(default_factory=dict)


def stats_map(chunk: list[Row]) -> StatsPartial:
    part = StatsPartial(labels=[r[2] for r in chunk], test_flags=[r[4] for r in chunk])
    for row_id, text, label, group, test in chunk:
        ws = words(text)
        part.num_words += len(ws)
        part.num_empty += not ws
        part.split_labels["test" if test else "train", label] += 1
        (part.test_words if test else part.train_words).update(ws)
        match = RETWEET_RE.match(text)
        if match:
            part.retweets.append((row_id, digest(normalize(text[match.end() :]))))
        if group is not None:
            part.group_labels[group, label] += 1
            part.group_words.setdefault(group, Counter()).update(ws)
    return part


@dataclass
class AuditState:
    labels: list[str] = field(default_factory=list)  # per row, in row order (small: one str ref)
    test_flags: bytearray = field(default_factory=bytearray)
    split_labels: Counter = field(default_factory=Counter)
    train_words: Counter = field(default_factory=Counter)
    test_words: Counter = field(default_factory=Counter)
    num_words: int = 0
    num_empty: int = 0
    retweets: list[tuple[int, bytes]] = field(default_factory=list)
    group_labels: Counter = field(default_factory=Counter)
    group_words: dict[str, Counter] = field(default_factory=dict)
    dedup: DedupState = field(default_factory=DedupState)


def audit_map(chunk: list[Row]) -> tuple[StatsPartial, DedupPartial]:
    """One chunk -> its counters and its hashes/signatures (runs on a worker)."""
    return stats_map(chunk), dedup_map(chunk)


def audit_reduce(state: AuditState, partial: tuple[StatsPartial, DedupPartial]) -> AuditState:
    part, dedup_part = partial
    state.labels.extend(sys.intern(label) for label in part.labels)
    state.test_flags.extend(part.test_flags)
    state.split_labels.update(part.split_labels)
    state.train_words.update(part.train_words)
    state.test_words.update(part.test_words)
    state.num_words += part.num_words
    state.num_empty += part.num_empty
    state.retweets.extend(part.retweets)
    state.group_labels.update(part.group_labels)
    for group, counts in part.group_words.items():
        state.group_words.setdefault(group, Counter()).update(counts)
    dedup_reduce(state.dedup, dedup_part)
    return state
