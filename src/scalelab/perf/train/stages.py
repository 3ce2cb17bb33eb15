"""Explicit placement of layers, embedding and head (+MTP) on pipeline stages; the slowest device sets
the pace. Stages may hold unequal numbers of layers (Llama 3: 126 layers on 16 stages, one fewer on
the first and last; DeepSeek-V3: 61 layers + MTP on 16 stages).

When pp divides the layers every device holds L / pp (Megatron-LM's default). Otherwise middle
devices hold at most n layers each and the first and last devices share the remaining
R = L - (pp - 2) n so that (layers + embedding) and (layers + head) balance; n is chosen to minimize
the slowest device. With DualPipe device i holds stages i and pp-1-i and each micro-batch visits one
of them (DeepSeek-V3 TR Sec 3.2.1), so the end devices average the embedding and head stages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]
FIRST, MID, LAST = 0, 1, 2  # device kinds along the last axis of Placement arrays


@dataclass(frozen=True)
class Placement:
    """Per plan: what the slowest device computes per micro-batch, and what each device kind holds."""

    layers: Array  # layers the slowest device runs per micro-batch (averaged under DualPipe)
    embed_share: Array  # share of the embedding work on the slowest device
    head_share: Array  # share of head (+ MTP) work on the slowest device
    held_layers: Array  # [N, 3] layers whose weights the first/mid/last device holds
    held_embed: Array  # [N, 3] 1 where the device holds the embedding
    held_head: Array  # [N, 3] 1 where the device holds the head (+ MTP)
    exists: Array  # [N, 3] 1 where such a device exists
    first_stage_layers: (
        Array  # layers of the first stage (on the first device; under DualPipe on the end rank)
    )


def place_layers(
    num_layers: int,
    pp: ArrayLike,
    dualpipe: ArrayLike,
    t_layer: ArrayLike,
    t_embed: ArrayLike,
    t_head: ArrayLike,
    split_times: tuple[ArrayLike, ArrayLike, ArrayLike] | None = None,
) -> Placement:
    """Balance num_layers (each t_layer seconds per micro-batch) and the embedding/head costs over pp
    devices. Interleaving splits each device's layers into chunks but does not change its total.
    `split_times` (layer, embed, head), default the same, divide the end layers between the first
    and the last stage (under DualPipe one device holds both, so only its total load is charged)."""
    p = np.asarray(pp, dtype=float)[:, None]
    dual = np.asarray(dualpipe, dtype=bool)[:, None] & (p > 1)
    t, te, th = (
        np.maximum(np.asarray(x, dtype=float), 1e-12)[:, None] for x in (t_layer, t_embed, t_head)
    )
    ts, tse, tsh = (
        (t, te, th)
        if split_times is None
        else (np.maximum(np.asarray(x, dtype=float), 1e-12)[:, None] for x in split_times)
    )
    L = float(num_layers)
    n = np.maximum(
        np.ceil(L / p) + np.arange(-2, 6)[None, :], 0.0
    )  # candidate max layers per middle device
    # Megatron-LM splits evenly when pp divides the layers (custom first/last-stage layouts only otherwise)
    even = (L % p == 0) & ~dual
    n = np.where(even, L / p, n)
    mids = np.maximum(p - 2.0, 0.0)
    rem = np.where(p > 2, np.maximum(L - mids * n, 0.0), L)
    n_eff = np.where(p > 2, np.minimum(n, np.ceil((L - rem) / np.maximum(mids, 1.0))), 0.0)
    split = np.where(
        dual,
        np.round((rem * ts + tsh - tse) / (2.0 * ts)),
        np.round((rem * t + th - te) / (2.0 * t)),
    )
    a = np.where(even & (p > 1), L / p, np.clip(split, 0.0, rem))
    first, last, mid = a * t + te, (rem - a) * t + th, n_eff * t
    end_dual = (rem * t + te + th) / 2.0
    load = np.where(dual, np.maximum(mid, end_dual), np.maximum(mid, np.maximum(first, last)))
    load = np.where(p <= 1, L * t + te + th, load)
    j = np.argmin(load, axis=1)[:, None]
    pick = [
        np.take_along_axis(x, j, axis=1)[:, 0] for x in (rem, a, first, last, mid, end_dual, n_eff)
    ]
    return _describe(L, p[:, 0], dual[:, 0], *pick)


def _describe(
    L: float,
    p: Array,
    dual: NDArray[np.bool_],
    rem: Array,
    a: Array,
    first: Array,
    last: Array,
    mid: Array,
    end_dual: Array,
    n_eff: Array,
) -> Placement:
    single = p <= 1
    one, zero = np.ones_like(p), np.zeros_like(p)
    mid_max = (p > 2) & np.where(dual, mid >= end_dual, (mid >= first) & (mid >= last))
    last_max = ~mid_max & ~dual & (last >= first)
    conds = [single, mid_max, dual, last_max]
    layers = np.select(conds, [np.full_like(p, L), n_eff, rem / 2.0, rem - a], default=a)
    embed = np.select(conds, [one, zero, 0.5 * one, zero], default=one)
    head = np.select(conds, [one, zero, 0.5 * one, one], default=zero)
    held = np.stack(
        [
            np.where(single, L, np.where(dual, rem, a)),
            np.where(dual, 2.0 * n_eff, n_eff),
            np.where(single | dual, 0.0, rem - a),
        ],
        axis=1,
    )
    held_embed = np.stack([one, zero, zero], axis=1)
    held_head = np.stack(
        [np.where(single | dual, one, zero), zero, np.where(single | dual, zero, one)], axis=1
    )
    exists = np.stack([one, np.where(p > 2, one, zero), np.where(single | dual, zero, one)], axis=1)
    first_stage = np.where(single, L, a)
    return Placement(layers, embed, head, held, held_embed, held_head, exists, first_stage)
