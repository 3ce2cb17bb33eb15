"""Operator accounting for one block (attention, FFN, MoE, head) of one micro-batch on one device.

`StepContext` holds the per-plan shapes after TP/SP/CP/EP sharding; `Block` accumulates, op by op,
forward (F), input-gradient (B) and weight-gradient (W) kernel time, kernel launches, saved
activation bytes, recompute work and the communication each pass needs. All fields are arrays
over plans; nothing here decides overlap (perf/train/step.py does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scalelab.core.specs import AcceleratorSpec, ModelSpec
from scalelab.perf.comm import CommTiers, group_layout
from scalelab.perf.kernels.timing import (
    GemmRate,
    attention_time_s,
    choose_rate,
    gemm_rate,
    gemm_time_at,
    memory_bound_time_s,
)
from scalelab.perf.train.plan_arrays import PlanArrays

Array = NDArray[np.float64]
# Bytes an FP8 cast moves per element: read bf16 (2) + write fp8 (1); the 1x128 tile scales add
# 4/128 (DeepSeek-V3 TR Sec 3.3.2 fine-grained quantization).
FP8_QUANT_BYTES_PER_ELEM = 3.0 + 4.0 / 128.0
ATTN_OUT_FP8_RECIPE_BYTES = 1.5  # E5M6: 12 bits per element (DeepSeek-V3 TR Sec 3.3.3)
# Fine-grained fp8 GEMMs promote partial sums to fp32 on CUDA cores every 128 K elements
# (DeepSeek-V3 TR Sec 3.3.2), so their rate grows with K as K / (K + K0). K0 fitted on DeepGEMM's
# first published H800 table (README, 2025-02-25, M = 4096: 1358, 1304, 1058, 1025, 990, 590
# TFLOP/s at K = 16384, 7168, 7168, 2048, 1536, 512): K0 = 800 reproduces their ratios within 6%.
FP8_PROMOTION_K0 = 800.0
# Backward over forward bytes of a memory-bound op, each operand read once and each output written
# once: a norm reads x and writes y (2 tensors) and its backward reads x and dy and writes dx (3);
# GeLU likewise; softmax reads y and dy and writes dx; a copy moves the same bytes back.
BWD_BYTES_RATIO = {"norm": 1.5, "act": 1.5, "softmax": 1.5, "copy": 1.0, "add": 1.0}


@dataclass(frozen=True)
class StepContext:
    """Shapes and rates shared by all blocks of one model on one cluster, for N plans."""

    model: ModelSpec
    acc: AcceleratorSpec
    tiers: CommTiers
    p: PlanArrays
    seq_len: int
    causal: bool
    tp: Array
    cp: Array
    ep: Array
    mb: Array
    tokens: Array  # GEMM rows of a micro-batch on this rank: mb * seq / cp
    norm_tokens: Array  # rows of norms/residuals: tokens / tp with sequence parallelism
    moe_tokens: Array  # tokens this rank routes: tokens / tp
    lin: GemmRate  # linear layers (fp8 where the plan trains in fp8)
    hi: GemmRate  # bf16 GEMMs (head, router) at the same SM share
    lin_bytes: Array  # bytes per saved GEMM-input element (1 for fp8 activations, else 2)
    fp8: NDArray[np.bool_]
    sm_frac: Array
    tp_rpn: Array  # TP group: ranks per node
    ep_rpn: Array
    ep_nodes: Array
    cp_rpn: Array
    unfused_attn: NDArray[np.bool_]
    recipe_selective: bool  # selective recompute also drops norm/activation outputs, MLA up-proj
    dropout: bool  # the reference implementation applies dropout (masks saved, Korthikanti Sec 4.1)


# Architecture families whose reference implementation runs unfused attention with dropout unless
# the plan lists `flash-attention`: Megatron-LM GPT as used by Narayanan et al. SC'21 (Sec 4.2).
UNFUSED_ATTENTION_ARCHES = ("gpt",)
# ... and that apply hidden/attention dropout (Megatron-LM GPT: 0.1 each; Korthikanti et al. 2022
# Sec 4.1 count their 1-byte masks). Llama-family and DeepSeek pretraining use none.
DROPOUT_ARCHES = ("gpt",)


def make_context(
    model: ModelSpec,
    acc: AcceleratorSpec,
    tiers: CommTiers,
    p: PlanArrays,
    seq_len: int,
    causal: bool,
) -> StepContext:
    """Derive the per-plan shapes: TP innermost, then CP, DP/EP, PP outermost (Megatron rank order)."""
    tp, cp, ep, mb = (x.astype(float) for x in (p.tp, p.cp, p.ep, p.microbatch))
    tokens = mb * seq_len / cp
    sms = float(acc.num_compute_units or 1)
    sm_frac = np.clip(1.0 - p.comm_sms / sms, 0.05, 1.0)
    wide = choose_rate(p.fp32, gemm_rate("fp32", acc, sm_frac), gemm_rate("bf16", acc, sm_frac))
    lin = choose_rate(p.fp8, gemm_rate("fp8", acc, sm_frac), wide)
    dpn = tiers.devices_per_node
    tp_rpn, _ = group_layout(tp, 1.0, dpn)
    ep_rpn, ep_nodes = group_layout(ep, 1.0, dpn)
    cp_rpn, _ = group_layout(cp, tp, dpn)
    fp8 = p.fp8 & (lin.elem_bytes < 2)
    return StepContext(
        model,
        acc,
        tiers,
        p,
        seq_len,
        causal,
        tp,
        cp,
        ep,
        mb,
        tokens,
        np.where(p.sp, tokens / tp, tokens),
        tokens / tp,
        lin,
        gemm_rate("bf16", acc, sm_frac),
        np.where(fp8, 1.0, 2.0),
        fp8,
        sm_frac,
        tp_rpn,
        ep_rpn,
        ep_nodes,
        cp_rpn,
        np.bool_(model.arch in UNFUSED_ATTENTION_ARCHES) & ~p.flash_attn,
        model.uses_mla,  # DeepSeek-V2/V3: their selective recipe (TR Sec 3.2.3)
        model.arch in DROPOUT_ARCHES,
    )


class Block:
    """Accumulates the cost of the ops of one block; arrays over plans.

    Saved activations are kept by part (`saved`, bytes per micro-batch without recompute).
    Selective recompute drops the bytes of two categories and re-runs the forward ops that made
    them: "core", the attention core between the stored Q, K, V and the attention output
    (Korthikanti et al. 2022 Sec 5), and "recipe", the norm outputs, activation outputs and MLA
    up-projections that DeepSeek-V2/V3 recompute (DeepSeek-V3 TR Sec 3.2.3, 3.3.3), for the
    architectures whose reference code does (StepContext.recipe_selective)."""

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx
        z: Array = np.zeros(
            ()
        )  # 0-d: broadcasts to the plans on first use (no N-sized allocations)
        self.f, self.b, self.w = z.copy(), z.copy(), z.copy()
        self.sel_f, self.sel_kernels = z.copy(), z.copy()  # re-run under selective recompute
        self.kernels_f, self.kernels_b = z.copy(), z.copy()
        self.saved: dict[str, Array] = {}
        self.dropped: dict[str, Array] = {}  # the part of `saved` selective recompute does not keep
        self.attn_f, self.attn_b = z.copy(), z.copy()
        self.tp_f, self.ep_f, self.cp_f = z.copy(), z.copy(), z.copy()
        self.tp_redo = z.copy()  # SP: backward re-gather of column-parallel inputs (seconds)
        # backward GEMM time of column-parallel layers, the window Megatron-LM's asynchronous TP
        # communication hides behind (dgrad: the SP re-gather, wgrad: the input-gradient reduction)
        self.col_dgrad, self.col_wgrad = z.copy(), z.copy()
        self.ep_dispatch_f, self.ep_combine_f = z.copy(), z.copy()

    @property
    def saved_total(self) -> Array:
        return np.asarray(sum(self.saved.values(), np.zeros(())), dtype=float)

    def _selective(self, category: str | None) -> bool:
        return category == "core" or (category == "recipe" and self.ctx.recipe_selective)

    def save(self, part: str, nbytes: ArrayLike, drop: str | None = None) -> None:
        """Keep `nbytes` for the backward as activation part `part`; `drop`: its selective category."""
        b = np.asarray(nbytes, dtype=float)
        self.saved[part] = self.saved.get(part, np.zeros(())) + b
        if self._selective(drop):
            self.dropped[part] = self.dropped.get(part, np.zeros(())) + b

    def _rerun(self, t: Array, kernels: ArrayLike, category: str | None) -> None:
        if self._selective(category):
            self.sel_f = self.sel_f + t
            self.sel_kernels = self.sel_kernels + np.asarray(kernels, dtype=float)

    def _mem(self, nbytes: ArrayLike, op: str = "copy") -> Array:
        return memory_bound_time_s(nbytes, self.ctx.acc, op)

    def gemm(
        self,
        m: ArrayLike,
        n: ArrayLike,
        k: ArrayLike,
        rate: GemmRate | None = None,
        groups: ArrayLike = 1.0,
        batched: bool = False,
        input_saved: ArrayLike = True,
        saved_rows: ArrayLike | None = None,
        drop_input: str | None = None,
        rerun: str | None = None,
        col_parallel: bool = False,
    ) -> None:
        """`groups` GEMMs (m x k) @ (k x n) in one launch (`batched`: a grouped/bmm kernel);
        backward = dgrad (m x n)(n x k) + wgrad (k x m)(m x n) (Narayanan et al. SC'21 Sec 3.2:
        backward = 2x forward). FP8 linear layers pay a cast of each input and output-gradient
        (DeepSeek-V3 TR Sec 3.3). Its input is saved (`saved_rows` rows: the SP shard) unless
        `input_saved` is false; `drop_input`/`rerun`: selective categories of the saved input and
        of this GEMM's own forward."""
        ctx, acc = self.ctx, self.ctx.acc
        rate = rate or ctx.lin
        g = np.asarray(groups, dtype=float)
        m, n, k = (np.asarray(x, dtype=float) for x in (m, n, k))
        quant = (rate is ctx.lin) & ctx.fp8

        def at(inner: Array) -> GemmRate:  # the fp8 recipe's rate at this K
            slow = np.where(quant, inner / (inner + FP8_PROMOTION_K0), 1.0)
            return GemmRate(rate.flops_per_s * slow, rate.elem_bytes)

        f = gemm_time_at(m, n, k, at(k), acc, groups=g, batched=batched)
        dg = gemm_time_at(m, k, n, at(n), acc, groups=g, batched=batched)
        wg = gemm_time_at(k, n, m, at(m), acc, groups=g, batched=batched)
        f = f + np.where(quant, self._mem(g * m * k * FP8_QUANT_BYTES_PER_ELEM), 0.0)
        dg = dg + np.where(quant, self._mem(g * m * n * FP8_QUANT_BYTES_PER_ELEM), 0.0)
        self.f = self.f + f
        self.b = self.b + dg
        self.w = self.w + wg
        kernels = np.where(quant, 2.0, 1.0)
        self.kernels_f = self.kernels_f + kernels
        self.kernels_b = self.kernels_b + np.where(quant, 3.0, 2.0)
        rows = m if saved_rows is None else np.asarray(saved_rows, dtype=float)
        elem = ctx.lin_bytes if rate is ctx.lin else 2.0
        self.save("gemm_inputs", np.where(input_saved, g * rows * k * elem, 0.0), drop_input)
        self._rerun(f, kernels, rerun)
        if col_parallel:
            self.col_dgrad = self.col_dgrad + dg
            self.col_wgrad = self.col_wgrad + wg

    def elementwise(
        self,
        nbytes: ArrayLike,
        op: str,
        saved_bytes: ArrayLike = 0.0,
        part: str = "norm_inputs",
        rerun: str | None = None,
        bwd_ratio: float | None = None,
    ) -> None:
        """A memory-bound op moving `nbytes` forward; its backward moves `bwd_ratio` times as much
        (BWD_BYTES_RATIO of its class by default; 0: no backward kernel). It saves `saved_bytes`
        as activation part `part`."""
        t = self._mem(nbytes, op)
        ratio = BWD_BYTES_RATIO[op] if bwd_ratio is None else bwd_ratio
        self.f = self.f + t
        self.b = self.b + self._mem(ratio * np.asarray(nbytes, dtype=float), op)
        self.kernels_f = self.kernels_f + 1.0
        self.kernels_b = self.kernels_b + (1.0 if ratio > 0 else 0.0)
        self.save(part, saved_bytes)
        self._rerun(t, 1.0, rerun)

    def attention(
        self, heads: ArrayLike, d_qk: float, d_v: float, kv_heads: ArrayLike, drop_qkv: str | None
    ) -> None:
        """Attention of one micro-batch (queries of this CP rank against the full sequence): a fused
        flash kernel, or where the plan's implementation is unfused, the Megatron-LM 2021 core
        attention (batched GEMMs, fused scale-mask-softmax, dropout; Narayanan et al. SC'21 Sec 4.2)."""
        ctx = self.ctx
        s_q = ctx.seq_len / ctx.cp
        args = (ctx.mb, heads, s_q, float(ctx.seq_len), d_qk, d_v, ctx.causal, ctx.acc)
        f = attention_time_s(*args, sm_frac=ctx.sm_frac)
        b = attention_time_s(*args, backward=True, sm_frac=ctx.sm_frac)
        uf, ub, scores = self._unfused(heads, s_q, d_qk, d_v)
        unfused = ctx.unfused_attn
        f, b = np.where(unfused, uf, f), np.where(unfused, ub, b)
        self.f = self.f + f
        self.b = self.b + b
        self.attn_f = self.attn_f + f
        self.attn_b = self.attn_b + b
        kernels = np.where(unfused, 4.0, 1.0)
        self.kernels_f = self.kernels_f + kernels
        self.kernels_b = self.kernels_b + np.where(unfused, 6.0, 1.0)
        h = np.asarray(heads, dtype=float)
        qkv = ctx.tokens * (h * d_qk + np.asarray(kv_heads, dtype=float) * (d_qk + d_v)) * 2.0
        self.save("attention_qkv", qkv, drop_qkv)
        # output, plus the fp32 log-sum-exp a flash kernel keeps per row; the output is also the
        # o-projection's input, kept once: bf16, or E5M6 (1.5 B) in the fp8 recipe (DeepSeek-V3
        # TR Sec 3.3.3, "inputs of the Linear after the attention operator")
        out_bytes = np.where(ctx.fp8, ATTN_OUT_FP8_RECIPE_BYTES, 2.0)
        self.save("attention_out", ctx.tokens * h * (d_v * out_bytes + np.where(unfused, 0.0, 4.0)))
        # unfused: softmax output (2 B), dropout mask (1 B) and dropped probabilities (2 B) per
        # score (Korthikanti et al. 2022 Sec 4.1, the 5as/h term); recomputed under selective
        self.save("attention_scores", np.where(unfused, 5.0 * scores, 0.0), "core")
        self._rerun(np.where(unfused, uf, 0.0), np.where(unfused, 4.0, 0.0), "core")

    def _unfused(
        self, heads: ArrayLike, s_q: Array, d_qk: float, d_v: float
    ) -> tuple[Array, Array, Array]:
        """(forward, backward, score elements) of unfused attention: full s x s scores are computed
        and masked; QK^T and PV run as batched bf16 GEMMs, softmax and dropout are memory-bound."""
        ctx, acc = self.ctx, self.ctx.acc
        g = ctx.mb * np.asarray(heads, dtype=float)
        s_kv = float(ctx.seq_len)
        scores = g * s_q * s_kv
        gemm = [
            gemm_time_at(a, bb, c, ctx.hi, acc, groups=g, batched=True)
            for a, bb, c in ((s_q, s_kv, d_qk), (s_q, d_v, s_kv))
        ]
        grads = [
            gemm_time_at(a, bb, c, ctx.hi, acc, groups=g, batched=True)
            for a, bb, c in (
                (s_q, s_kv, d_v),
                (s_kv, d_v, s_q),
                (s_q, d_qk, s_kv),
                (s_kv, d_qk, s_q),
            )
        ]
        # the fused scale-mask-softmax is a one-pass row kernel like RMSNorm ("norm" class); torch's
        # dropout is one elementwise kernel writing output and mask ("add" class)
        fwd = gemm[0] + gemm[1] + self._mem(4.0 * scores, "norm") + self._mem(5.0 * scores, "add")
        bwd = sum(grads) + self._mem(6.0 * scores, "norm") + self._mem(5.0 * scores, "add")
        return fwd, np.asarray(bwd, dtype=float), scores

    def add_comm(
        self, tp_s: ArrayLike = 0.0, cp_s: ArrayLike = 0.0, tp_redo_s: ArrayLike = 0.0
    ) -> None:
        """Forward TP and CP communication of the block; its backward mirrors it. `tp_redo_s`: the
        all-gathers sequence parallelism repeats in the backward (Korthikanti et al. 2022 Sec 4.2.2)."""
        self.tp_f = self.tp_f + np.asarray(tp_s, dtype=float)
        self.cp_f = self.cp_f + np.asarray(cp_s, dtype=float)
        self.tp_redo = self.tp_redo + np.asarray(tp_redo_s, dtype=float)

    def add_ep(self, dispatch_s: ArrayLike, combine_s: ArrayLike) -> None:
        """Forward EP dispatch and combine all-to-alls; the backward moves the same volumes back."""
        self.ep_dispatch_f = self.ep_dispatch_f + np.asarray(dispatch_s, dtype=float)
        self.ep_combine_f = self.ep_combine_f + np.asarray(combine_s, dtype=float)
        self.ep_f = (
            self.ep_f + np.asarray(dispatch_s, dtype=float) + np.asarray(combine_s, dtype=float)
        )
