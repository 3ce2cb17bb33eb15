"""Exact and near duplicates as a map/reduce: the map turns a chunk of rows into hashes and
MinHash signatures (Broder 1997), the reduce buckets them with LSH banding (Leskovec, Rajaraman &
Ullman, "Mining of Massive Datasets", ch. 3.4) and joins candidates whose estimated Jaccard
similarity of word 3-shingles reaches the threshold. Only hashes and signatures (~300 bytes per
row) reach the reducer, never the texts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from scalelab.data.text import normalize, shingles

NUM_PERM = 64
BANDS, ROWS_PER_BAND = 8, 8  # LSH S-curve threshold ~ (1/8)^(1/8) = 0.77 (MMDS eq. 3.4)
NEAR_THRESHOLD = 0.8  # estimated Jaccard of word 3-shingles
SEED = 1

Row = tuple[int, str, str, str | None, bool]  # (row id, text, label, group, in test split)


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).digest()


@dataclass
class DedupPartial:
    ids: np.ndarray
    exact: list[bytes]
    normalized: list[bytes]
    signatures: np.ndarray  # (rows, NUM_PERM) uint64 MinHash values


def dedup_map(chunk: list[Row]) -> DedupPartial:
    """Hashes and MinHash signatures of one chunk of rows."""
    from datasketch import MinHash

    texts = [row[1] for row in chunk]
    sets = [[s.encode("utf-8") for s in shingles(t)] or [b""] for t in texts]
    hashes = MinHash.bulk(sets, num_perm=NUM_PERM, seed=SEED)
    return DedupPartial(
        ids=np.array([row[0] for row in chunk], dtype=np.int64),
        exact=[digest(t) for t in texts],
        normalized=[digest(normalize(t)) for t in texts],
        signatures=np.array([m.hashvalues for m in hashes], dtype=np.uint64),
    )


@dataclass
class DedupState:
    """What the reduce keeps: first row per hash, duplicate pairs, signatures and LSH buckets."""

    first_exact: dict[bytes, int] = field(default_factory=dict)
    first_norm: dict[bytes, int] = field(default_factory=dict)
    exact_pairs: list[tuple[int, int]] = field(default_factory=list)  # (duplicate, first)
    norm_pairs: list[tuple[int, int]] = field(default_factory=list)
    ids: list[np.ndarray] = field(default_factory=list)
    signatures: list[np.ndarray] = field(default_factory=list)
    buckets: dict[bytes, list[int]] = field(default_factory=dict)


def dedup_reduce(state: DedupState, part: DedupPartial) -> DedupState:
    for row, key, norm in zip(part.ids.tolist(), part.exact, part.normalized, strict=True):
        first = state.first_exact.setdefault(key, row)
        if first != row:
            state.exact_pairs.append((row, first))
        first = state.first_norm.setdefault(norm, row)
        if first != row:
            state.norm_pairs.append((row, first))
    state.ids.append(part.ids)
    state.signatures.append(part.signatures)
    for band in range(BANDS):
        cols = part.signatures[:, band * ROWS_PER_BAND : (band + 1) * ROWS_PER_BAND]
        for row, values in zip(part.ids.tolist(), cols, strict=True):
            key = bytes([band]) + hashlib.blake2b(values.tobytes(), digest_size=8).digest()
            state.buckets.setdefault(key, []).append(row)
    return state


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:  # path compression
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)  # the smallest row id leads the cluster


def near_clusters(state: DedupState, threshold: float = NEAR_THRESHOLD) -> list[list[int]]:
    """Clusters (sorted row ids, size >= 2) of rows whose estimated Jaccard >= threshold with a
    bucket-mate; each LSH bucket is compared against its first row (a star, not all pairs)."""
    if not state.ids:
        return []
    ids = np.concatenate(state.ids)
    sigs = np.concatenate(state.signatures)
    where = {int(row): i for i, row in enumerate(ids)}
    uf = _UnionFind()
    for members in state.buckets.values():
        if len(members) < 2:
            continue
        head = sigs[where[members[0]]]
        others = np.array([where[m] for m in members[1:]])
        similar = (sigs[others] == head).mean(axis=1) >= threshold
        for m, ok in zip(members[1:], similar, strict=True):
            if ok:
                uf.union(members[0], m)
    clusters: dict[int, list[int]] = {}
    for row in uf.parent:
        clusters.setdefault(uf.find(row), []).append(row)
    for root, members in clusters.items():
        if root not in members:
            members.append(root)
    return sorted((sorted(m) for m in clusters.values() if len(m) > 1), key=lambda m: m[0])
