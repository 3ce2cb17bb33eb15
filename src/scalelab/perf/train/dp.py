"""Data-parallel synchronization of one step: gradient reduction and parameter gathers, ZeRO 0-3.

ZeRO 0-2 (Megatron-LM's DDP and distributed optimizer): gradients are reduced once per step
(all-reduce; reduce-scatter at ZeRO >= 1) and, after a sharded optimizer step, the updated bf16
parameters all-gathered; neither overlaps unless the plan lists `dp-comm-overlap`.

ZeRO-3 / FSDP (Rajbhandari et al. SC'20 Sec 5.3; Zhao et al. VLDB'23 Sec 3): every layer is a unit
whose bf16 weights are all-gathered before its forward and, re-sharded after it, again before its
backward, whose bf16 gradients are reduce-scattered after its backward - for every micro-batch. The
next unit's gather is prefetched behind the current unit's compute (FSDP forward/backward
prefetch, DeepSpeed's prefetch bucket), so per micro-batch the first gather and the last
reduce-scatter are exposed and every other collective only where it outlasts a layer's compute.
Each collective is one NCCL ring over the data-parallel group, with its latency per ring step
(perf/comm.py): with many ranks and small layers the latency, not the bandwidth, sets the pace.
`no-reshard-after-forward` skips the backward gather (FSDP reshard_after_forward=False);
`no-reshard-after-backward` also keeps the weights across micro-batches, one gather per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scalelab.perf.comm import all_gather_time_s, group_layout, reduce_scatter_time_s
from scalelab.perf.train.memory import grad_bytes_per_param
from scalelab.perf.train.ops import Array, StepContext
from scalelab.perf.train.passes import comm_sm_share
from scalelab.perf.train.plan_arrays import PlanArrays

PARAM_COMM_BYTES = 2.0  # bf16 weights are gathered (Megatron-LM distributed optimizer, FSDP)
FP16_GRAD_BYTES = 2.0


def reduced_grad_bytes(p: PlanArrays) -> Array:
    """Bytes per parameter of the gradients a step reduces: Megatron-LM keeps and all-reduces them
    in fp32 for bf16 (arguments.py forces accumulate_allreduce_grads_in_fp32) but in the parameter
    dtype for fp16 (the flag is off by default; commit aed2f75e20, 2021-04), i.e. 2 B at ZeRO 0-1;
    perf/train/memory.grad_bytes_per_param otherwise."""
    return np.where(p.fp16 & (p.zero <= 1), FP16_GRAD_BYTES, grad_bytes_per_param(p.zero))


@dataclass(frozen=True)
class DpSync:
    """Per plan: seconds of data-parallel traffic per step, and the part not hidden by compute."""

    total_s: Array
    exposed_s: Array


@dataclass(frozen=True)
class DpGroups:
    """Collective time of one parameter tensor set: dense over dp x cp, experts over the
    expert-data-parallel group (ranks laid out TP innermost, then CP, DP)."""

    ctx: StepContext

    def _groups(self) -> tuple[Array, Array, Array, Array]:
        p, dpn = self.ctx.p, self.ctx.tiers.devices_per_node
        dense_g = (p.dp * p.cp).astype(float)
        edp = (p.dp * p.tp * p.cp / p.ep).astype(float)
        r_dense, _ = group_layout(dense_g, self.ctx.tp, dpn)
        r_exp, _ = group_layout(edp, self.ctx.ep, dpn)
        return dense_g, r_dense, edp, r_exp

    def gather(self, dense_bytes: Array, expert_bytes: Array) -> Array:
        dense_g, r_dense, edp, r_exp = self._groups()
        tiers = self.ctx.tiers
        return all_gather_time_s(dense_bytes, dense_g, r_dense, tiers) + all_gather_time_s(
            expert_bytes, edp, r_exp, tiers
        )

    def reduce_scatter(self, dense_bytes: Array, expert_bytes: Array) -> Array:
        dense_g, r_dense, edp, r_exp = self._groups()
        tiers = self.ctx.tiers
        return reduce_scatter_time_s(dense_bytes, dense_g, r_dense, tiers) + reduce_scatter_time_s(
            expert_bytes, edp, r_exp, tiers
        )


def dp_sync(
    ctx: StepContext,
    dense_params: Array,
    expert_params: Array,
    units: Array,
    num_micro: Array,
    f_s: Array,
    bw_s: Array,
) -> DpSync:
    """Data-parallel seconds per step on a device holding `dense_params` + `expert_params` in
    `units` layers; f_s and bw_s are its forward and backward (+ weight-gradient) seconds per
    micro-batch, the windows ZeRO-3 hides its per-layer collectives in."""
    p = ctx.p
    g = DpGroups(ctx)
    grad = reduced_grad_bytes(p)
    reduce = g.reduce_scatter(dense_params * grad, expert_params * grad) * np.where(
        p.zero == 0, 2.0, 1.0
    )  # all-reduce = reduce-scatter + all-gather
    gather = np.where(
        p.zero == 0,
        0.0,
        g.gather(dense_params * PARAM_COMM_BYTES, expert_params * PARAM_COMM_BYTES),
    )
    window_b = np.where(p.dp_overlap, bw_s, 0.0)
    window_f = np.where(p.dp_overlap, f_s, 0.0)
    stage12 = np.maximum(reduce - window_b, 0.0) + np.maximum(gather - window_f, 0.0)
    # what hides behind the compute still takes its SMs from it (as for ZeRO-3 and TP)
    stage12 = stage12 + comm_sm_share(ctx) * np.maximum(reduce + gather - stage12, 0.0)
    total3, exposed3 = _zero3(ctx, g, dense_params, expert_params, units, num_micro, f_s, bw_s)
    z3 = p.zero >= 3
    return DpSync(np.where(z3, total3, reduce + gather), np.where(z3, exposed3, stage12))


def _zero3(
    ctx: StepContext,
    g: DpGroups,
    dense_params: Array,
    expert_params: Array,
    units: Array,
    num_micro: Array,
    f_s: Array,
    bw_s: Array,
) -> tuple[Array, Array]:
    """(total, exposed) seconds of the per-layer ZeRO-3 collectives of one step."""
    p = ctx.p
    n = np.maximum(units, 1.0)
    ag = g.gather(dense_params / n * PARAM_COMM_BYTES, expert_params / n * PARAM_COMM_BYTES)
    grad = grad_bytes_per_param(p.zero)
    rs = g.reduce_scatter(dense_params / n * grad, expert_params / n * grad)
    ag_b = np.where(p.no_reshard_fwd | p.no_reshard_bwd, 0.0, ag)
    f_l, b_l = f_s / n, bw_s / n
    # forward: the first gather waits, each later one hides behind the previous layer's forward
    fwd = ag + (n - 1.0) * np.maximum(ag - f_l, 0.0)
    # backward: gather (if re-sharded) and reduce-scatter of neighbouring layers share the links
    # and hide behind a layer's backward; the last reduce-scatter waits
    bwd = n * np.maximum(ag_b + rs - b_l, 0.0) + rs
    gathers = np.where(p.no_reshard_bwd, 1.0, num_micro)  # micro-batches that gather
    total = n * (gathers * ag + num_micro * (ag_b + rs))
    exposed = gathers * fwd + num_micro * bwd
    # the hidden collectives still take their SMs from the compute they overlap
    hidden = np.maximum(total - exposed, 0.0)
    return total, exposed + comm_sm_share(ctx) * hidden
