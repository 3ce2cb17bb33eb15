"""Forward (F), input-gradient (B) and weight-gradient (W) times of a block per micro-batch, with
recomputation, kernel launches and the exposed part of each communication.

Recompute: `full` re-runs the block's forward (kernels and TP/EP traffic) before its backward
(Narayanan et al. SC'21 Sec 3.5); `selective` re-runs the attention core (Korthikanti et al. 2022
Sec 5), and for DeepSeek-style models also norms, activations and MLA up-projections (DeepSeek-V3
TR Sec 3.2.3); see perf/train/ops.Block. Launches are counted here and bounded per device pass in
`launch_bound`: the host queues kernels ahead of the GPU, so a pass takes the longer of its GPU
time and its launch time (h200_micro.json: ~15 us per eager launch, ~2 us from a CUDA graph; a
chain of kernels longer than that runs at GPU speed either way).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

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
# SMs an NCCL collective running beside compute takes from it: NCCL's default 16 channels on
# NVLink, one CTA each (assumption; NCCL_MIN_NCHANNELS/NCCL_MAX_NCHANNELS set them per job).
NCCL_OVERLAP_SMS = 16.0
_NOT_SCALED = ("pair_overlap",)


def _overlap(c: Array, x: Array, frac: float) -> Array:
    return np.maximum(c, x) + (1.0 - frac) * np.minimum(c, x)


@dataclass(frozen=True)
class PassTimes:
    """Seconds per micro-batch; arrays over plans. c_* compute, tp/cp exposed, ep raw, k_* launches."""

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
    k_f: Array  # kernel launches of the forward (incl. nothing re-run)
    k_b: Array  # kernel launches of the backward (incl. recomputation)
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
                if f.name not in _NOT_SCALED
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
    """Every time and launch count multiplied by `factor` (e.g. layers per stage)."""
    k = np.asarray(factor, dtype=float)
    return PassTimes(
        **{f.name: getattr(t, f.name) * k for f in fields(t) if f.name not in _NOT_SCALED},
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


def launch_bound(t: PassTimes, ctx: StepContext) -> PassTimes:
    """A device's passes of one micro-batch never run faster than the host launches their kernels
    (the host runs ahead of the GPU, so the bound applies to the whole pass, not kernel by kernel)."""
    launch = np.where(
        ctx.p.cuda_graphs,
        launch_time_s(1.0, True, acc=ctx.acc),
        launch_time_s(1.0, False, acc=ctx.acc),
    )
    c_f = np.maximum(t.c_f, t.k_f * launch)
    bw = t.c_b + t.c_w
    stretch = np.maximum(t.k_b * launch / np.maximum(bw, 1e-30), 1.0)
    return replace(t, c_f=c_f, c_b=t.c_b * stretch, c_w=t.c_w * stretch)


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
    return replace(a.plus(m), fb=fb)


def comm_sm_share(ctx: StepContext) -> float:
    """Share of the SMs an NCCL collective occupies while it overlaps compute: NCCL_OVERLAP_SMS of
    the device's compute units (Calculon's A100 model charges 15% on NVLink; DeepSeek-V3 TR
    Sec 3.2.2 gives 20 of 132 SMs to its all-to-all)."""
    return min(NCCL_OVERLAP_SMS / float(ctx.acc.num_compute_units or 108), 0.5)


def _tp_exposed(blk: Block, ctx: StepContext) -> tuple[Array, Array]:
    """(forward, backward) exposed TP time. Forward: the row-parallel all-reduce (with SP: the
    all-gather before and the reduce-scatter after the block). Backward, Megatron-LM issues the
    input-gradient all-reduce (SP: reduce-scatter) of column-parallel layers asynchronously behind
    their weight-gradient GEMM and the SP re-gather behind their input-gradient GEMM
    (LinearWithGradAccumulationAndAsyncCommunication); with SP the row-parallel backward
    all-gather stays exposed."""
    sp = ctx.p.sp
    half = 0.5 * blk.tp_f
    col = np.where(sp, half, blk.tp_f)
    # `no-async-tp-allreduce` (Megatron-LM before 2021-08-30): nothing hides behind the GEMMs
    sync = ctx.p.no_async_tp
    hidden = np.where(
        sync, 0.0, np.minimum(col, blk.col_wgrad) + np.minimum(blk.tp_redo, blk.col_dgrad)
    )
    bwd = np.where(sp, half, 0.0) + np.where(sync, col, np.maximum(col - blk.col_wgrad, 0.0))
    bwd = bwd + np.where(sync, blk.tp_redo, np.maximum(blk.tp_redo - blk.col_dgrad, 0.0))
    keep = 1.0 - TP_OVERLAP_FRAC * ctx.p.tp_overlap
    # the hidden collectives still take their SMs from the GEMMs they overlap
    return blk.tp_f * keep, bwd * keep + comm_sm_share(ctx) * hidden


def pass_times(blk: Block, ctx: StepContext, checkpointed: bool = True) -> PassTimes:
    """F/B/W of a block with recompute, launch counts and the exposed TP and CP traffic.
    `checkpointed`: the plan's recompute applies to the block. Megatron-LM checkpoints only the
    transformer layers (ParallelTransformer._checkpointed_forward); the embedding, the final norm,
    the LM head and the loss run once (Narayanan et al. SC'21 eq. 3 counts the logit layer 3x, not
    4x, under full recompute)."""
    p = ctx.p
    full = (p.recompute == RC_FULL) & checkpointed
    sel = (p.recompute == RC_SELECTIVE) & checkpointed
    recompute = np.where(full, blk.f, np.where(sel, blk.sel_f, 0.0))
    k_b = blk.kernels_b + np.where(full, blk.kernels_f, np.where(sel, blk.sel_kernels, 0.0))
    tp_f, tp_b = _tp_exposed(blk, ctx)
    cp_f = np.maximum(blk.cp_f - blk.attn_f, 0.0)
    cp_b = np.maximum(2.0 * blk.cp_f - blk.attn_b, 0.0) + np.where(full, cp_f, 0.0)
    tp_b = tp_b + np.where(full, tp_f, 0.0)  # the re-run forward repeats its collectives
    rerun = np.where(full, 2.0, 1.0)
    pair = (p.dual_overlap & (p.schedule != SCHED_DUALPIPE)).astype(float)
    c_b = blk.b + recompute
    fb = blk.f + c_b + blk.w + tp_f + tp_b + cp_f + cp_b + blk.ep_f * (1.0 + rerun)
    return PassTimes(
        *(
            np.broadcast_to(np.asarray(x, dtype=float), (p.size,))
            for x in (
                blk.f,
                c_b,
                blk.w,
                tp_f,
                tp_b,
                cp_f,
                cp_b,
                blk.ep_f,
                blk.ep_f * rerun,
                fb,
                blk.kernels_f,
                k_b,
                pair,
            )
        ),
    )
