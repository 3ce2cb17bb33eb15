"""Forward (F), input-gradient (B) and weight-gradient (W) times of a block per micro-batch, with
recomputation, launch-bound kernels and the exposed part of each communication.

Recompute: `full` re-runs the block's forward (kernels and TP/EP traffic) before its backward
(Narayanan et al. SC'21 Sec 3.5); `selective` re-runs norms, activations and MLA up-projections
(Korthikanti et al. 2022 Sec 5; DeepSeek-V3 TR Sec 3.2.3). A pass is launch-bound when the host
cannot issue its kernels faster than the GPU runs them (h200_micro.json: ~15 us eager, ~2 us graphs).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import ArrayLike

from scalelab.perf.kernels import launch_time_s
from scalelab.perf.ops import Array, Block, StepContext
from scalelab.perf.plan_arrays import RC_FULL, RC_SELECTIVE, SCHED_DUALPIPE

# Fraction of TP collectives hidden by `tp-comm-overlap` (Megatron/TE userbuffers). Assumption: 0.5
# (Wang et al. ASPLOS'23 "Overlap communication with dependent computation" hide 40-70%).
TP_OVERLAP_FRAC = 0.5
# Fraction of the shorter of (compute, EP communication) that overlaps when two micro-batches are
# interleaved (DualPipe, two-micro-batch overlap). DeepSeek-V3 TR Sec 3.2.1 reports the all-to-all
# "fully hidden"; assumption 1.0. SMs reserved for communication (comm_sms) still slow the compute.
EP_OVERLAP_FRAC = 1.0


def _overlap(c: Array, x: Array, frac: float) -> Array:
    return np.maximum(c, x) + (1.0 - frac) * np.minimum(c, x)


@dataclass(frozen=True)
class PassTimes:
    """Seconds per micro-batch; arrays over plans. c_* compute, tp/cp exposed, ep raw."""

    c_f: Array
    c_b: Array
    c_w: Array
    tp_f: Array
    tp_b: Array
    cp_f: Array
    cp_b: Array
    ep_f: Array
    ep_b: Array
    pair_overlap: Array  # 1.0 where two micro-batches overlap within a pass (not DualPipe)

    def _pass(self, c: Array, tp: Array, cp: Array, ep: Array) -> Array:
        paired = _overlap(c, ep, EP_OVERLAP_FRAC)
        return np.where(self.pair_overlap > 0, paired, c + ep) + tp + cp

    @property
    def f(self) -> Array:
        return self._pass(self.c_f, self.tp_f, self.cp_f, self.ep_f)

    @property
    def b(self) -> Array:
        return self._pass(self.c_b, self.tp_b, self.cp_b, self.ep_b)

    @property
    def w(self) -> Array:
        return self.c_w

    @property
    def total(self) -> Array:
        return self.f + self.b + self.w

    def plus(self, other: PassTimes) -> PassTimes:
        return PassTimes(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)
                            if f.name != "pair_overlap"}, pair_overlap=self.pair_overlap)

    def fb_pair(self, extra_comm: ArrayLike) -> Array:
        """DualPipe F&B: a forward and a backward chunk of two micro-batches, compute on one stream,
        EP and PP traffic on the other (DeepSeek-V3 TR Fig. 4)."""
        c = self.c_f + self.c_b + self.tp_f + self.tp_b + self.cp_f + self.cp_b
        x = self.ep_f + self.ep_b + np.asarray(extra_comm, dtype=float)
        return _overlap(c, x, EP_OVERLAP_FRAC)

    def breakdown(self, num_micro: Array, dual: Array, fb: Array) -> dict[str, Array]:
        """Step seconds by component: compute, exposed TP/CP/EP communication."""
        compute = self.c_f + self.c_b + self.c_w
        c_pair = self.c_f + self.c_b + self.tp_f + self.tp_b + self.cp_f + self.cp_b
        ep = np.where(dual, fb - c_pair, self.f + self.b - (c_pair))
        return {"compute": num_micro * compute, "tp_comm": num_micro * (self.tp_f + self.tp_b),
                "cp_comm": num_micro * (self.cp_f + self.cp_b), "ep_comm": num_micro * ep}


def scale(t: PassTimes, factor: ArrayLike) -> PassTimes:
    """Every time multiplied by `factor` (e.g. layers per stage)."""
    k = np.asarray(factor, dtype=float)
    return PassTimes(**{f.name: getattr(t, f.name) * k for f in fields(t) if f.name != "pair_overlap"},
                     pair_overlap=t.pair_overlap)


def combine(sel: ArrayLike, a: PassTimes, b: PassTimes, extra: PassTimes | None = None) -> PassTimes:
    """Per plan a where `sel` else b, plus `extra` if given."""
    s = np.asarray(sel, dtype=bool)
    out = PassTimes(**{f.name: np.where(s, getattr(a, f.name), getattr(b, f.name)) for f in fields(a)})
    return out.plus(extra) if extra is not None else out


def pass_times(blk: Block, ctx: StepContext) -> PassTimes:
    """F/B/W of a block with recompute, launch bounds and the exposed TP and CP traffic."""
    p = ctx.p
    full = p.recompute == RC_FULL
    sel = p.recompute == RC_SELECTIVE
    launch = np.where(p.cuda_graphs, launch_time_s(1.0, True), launch_time_s(1.0, False))
    c_f = np.maximum(blk.f, blk.kernels_f * launch)
    recompute = np.where(full, blk.f, np.where(sel, blk.selective_f, 0.0))
    c_b = np.maximum(blk.b + recompute, (blk.kernels_b + np.where(full, blk.kernels_f, 0.0)) * launch)
    tp_keep = 1.0 - TP_OVERLAP_FRAC * p.tp_overlap
    rerun = np.where(full, 2.0, 1.0)
    cp_f = np.maximum(blk.cp_f - blk.attn_f, 0.0)
    cp_b = np.maximum(2.0 * blk.cp_f - blk.attn_b, 0.0) + np.where(full, cp_f, 0.0)
    pair = (p.dual_overlap & (p.schedule != SCHED_DUALPIPE)).astype(float)
    return PassTimes(c_f, c_b, blk.w.copy(), blk.tp_f * tp_keep, blk.tp_f * tp_keep * rerun, cp_f, cp_b,
                     blk.ep_f.copy(), blk.ep_f * rerun, pair)
