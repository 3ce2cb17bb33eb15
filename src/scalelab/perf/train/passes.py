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

from scalelab.perf.kernels.timing import launch_time_s
from scalelab.perf.train.ops import Array, Block, StepContext
from scalelab.perf.train.plan_arrays import RC_FULL, RC_SELECTIVE, SCHED_DUALPIPE

# Fraction of TP collectives hidden by `tp-comm-overlap` (Megatron/TE userbuffers). Assumption: 0.5
# (Wang et al. ASPLOS'23 "Overlap communication with dependent computation" hide 40-70%).
TP_OVERLAP_FRAC = 0.5
# Fraction of the shorter of (compute, EP communication) that overlaps within one pairing of two
# micro-batches. DeepSeek-V3 TR Sec 3.2.1 reports each pairing "fully hidden"; assumption 1.0. What
# is not hidden comes from structure: SMs reserved for communication slow the compute, a component
# pairing is as long as its longer side (TR Fig. 4), and chunks that run unpaired at the start and
# end of the DualPipe schedule expose their traffic (schedules.dualpipe_time_s).
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
    fb: Array  # DualPipe F&B: this block's forward paired with another micro-batch's full backward
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
        return PassTimes(
            **{
                f.name: getattr(self, f.name) + getattr(other, f.name)
                for f in fields(self)
                if f.name != "pair_overlap"
            },
            pair_overlap=self.pair_overlap,
        )

    def breakdown(self, num_micro: Array, dual: Array) -> dict[str, Array]:
        """Seconds of m steady-state micro-batches by component: compute, exposed TP/CP/EP traffic."""
        compute = self.c_f + self.c_b + self.c_w
        c_pair = compute + self.tp_f + self.tp_b + self.cp_f + self.cp_b
        ep = np.where(dual, self.fb - c_pair, self.f + self.b + self.w - c_pair)
        return {
            "compute": num_micro * compute,
            "tp_comm": num_micro * (self.tp_f + self.tp_b),
            "cp_comm": num_micro * (self.cp_f + self.cp_b),
            "ep_comm": num_micro * ep,
        }


def scale(t: PassTimes, factor: ArrayLike) -> PassTimes:
    """Every time multiplied by `factor` (e.g. layers per stage)."""
    k = np.asarray(factor, dtype=float)
    return PassTimes(
        **{f.name: getattr(t, f.name) * k for f in fields(t) if f.name != "pair_overlap"},
        pair_overlap=t.pair_overlap,
    )


def combine(
    sel: ArrayLike, a: PassTimes, b: PassTimes, extra: PassTimes | None = None
) -> PassTimes:
    """Per plan a where `sel` else b, plus `extra` if given."""
    s = np.asarray(sel, dtype=bool)
    out = PassTimes(
        **{f.name: np.where(s, getattr(a, f.name), getattr(b, f.name)) for f in fields(a)}
    )
    return out.plus(extra) if extra is not None else out


def layer_times(attn: Block, ffn: Block, ctx: StepContext) -> PassTimes:
    """A transformer layer = attention block + FFN/MoE block. Its DualPipe F&B pairs components as in
    DeepSeek-V3 TR Fig. 4: attention-forward with combine-backward, MLP-backward (+W) with
    dispatch-forward, MLP-forward with dispatch-backward, attention-backward (+W) with combine-forward."""
    a, m = pass_times(attn, ctx), pass_times(ffn, ctx)
    rerun = np.where(ctx.p.recompute == RC_FULL, 2.0, 1.0)
    disp, comb = ffn.ep_dispatch_f, ffn.ep_combine_f
    a_f, m_f = a.c_f + a.tp_f + a.cp_f, m.c_f + m.tp_f + m.cp_f
    a_bw, m_bw = a.c_b + a.c_w + a.tp_b + a.cp_b, m.c_b + m.c_w + m.tp_b + m.cp_b
    fb = (
        _overlap(a_f, comb * rerun, EP_OVERLAP_FRAC)
        + _overlap(m_bw, disp, EP_OVERLAP_FRAC)
        + _overlap(m_f, disp * rerun, EP_OVERLAP_FRAC)
        + _overlap(a_bw, comb, EP_OVERLAP_FRAC)
    )
    out = a.plus(m)
    return PassTimes(**{f.name: getattr(out, f.name) for f in fields(out) if f.name != "fb"}, fb=fb)


def pass_times(blk: Block, ctx: StepContext) -> PassTimes:
    """F/B/W of a block with recompute, launch bounds and the exposed TP and CP traffic."""
    p = ctx.p
    full = p.recompute == RC_FULL
    sel = p.recompute == RC_SELECTIVE
    launch = np.where(
        p.cuda_graphs, launch_time_s(1.0, True, acc=ctx.acc), launch_time_s(1.0, False, acc=ctx.acc)
    )
    c_f = np.maximum(blk.f, blk.kernels_f * launch)
    recompute = np.where(full, blk.f, np.where(sel, blk.selective_f, 0.0))
    c_b = np.maximum(
        blk.b + recompute, (blk.kernels_b + np.where(full, blk.kernels_f, 0.0)) * launch
    )
    tp_keep = 1.0 - TP_OVERLAP_FRAC * p.tp_overlap
    rerun = np.where(full, 2.0, 1.0)
    cp_f = np.maximum(blk.cp_f - blk.attn_f, 0.0)
    cp_b = np.maximum(2.0 * blk.cp_f - blk.attn_b, 0.0) + np.where(full, cp_f, 0.0)
    pair = (p.dual_overlap & (p.schedule != SCHED_DUALPIPE)).astype(float)
    tp_f, tp_b = blk.tp_f * tp_keep, blk.tp_f * tp_keep * rerun
    fb = c_f + c_b + blk.w + tp_f + tp_b + cp_f + cp_b + blk.ep_f * (1.0 + rerun)
    return PassTimes(
        *(
            np.broadcast_to(x, (p.size,))
            for x in (c_f, c_b, blk.w, tp_f, tp_b, cp_f, cp_b, blk.ep_f, blk.ep_f * rerun, fb, pair)
        ),
    )
