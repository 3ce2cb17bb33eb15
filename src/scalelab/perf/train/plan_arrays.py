"""N parallel plans as numpy arrays (one entry per plan) so the step model evaluates them all at once.

`predict_train` builds a batch of one from a ParallelPlan; the planner builds millions. Categorical
choices are small integer codes (SCHEDULES, RECOMPUTES) so every formula stays array arithmetic.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from scalelab.core.specs import OPTIMIZATIONS, ModelSpec, ParallelPlan

SCHEDULES = ("none", "gpipe", "1f1b", "interleaved-1f1b", "zero-bubble", "dualpipe")
RECOMPUTES = ("none", "selective", "full")
SCHED_NONE, SCHED_GPIPE, SCHED_1F1B, SCHED_INTERLEAVED, SCHED_ZB, SCHED_DUALPIPE = range(6)
RC_NONE, RC_SELECTIVE, RC_FULL = range(3)
# Narayanan et al. SC'21 Sec 2.2.2 / Fig. 4 illustrate the interleaved schedule with two model
# chunks per device; used when a plan asks for interleaving without naming virtual_stages.
DEFAULT_VIRTUAL_STAGES = 2
# Flags read from ParallelPlan.optimizations (the names core.specs.OPTIMIZATIONS enumerates; what
# each does and its source: docs/perf-model.md "Optimization flags").
OPT_TP_OVERLAP = "tp-comm-overlap"  # TP collectives overlapped with GEMMs (TE userbuffers)
OPT_CUDA_GRAPHS = "cuda-graphs"  # kernels replayed from CUDA graphs (~2 us per launch)
OPT_MOE_LOOP = "moe-loop"  # experts run one after another (SequentialMLP) instead of grouped GEMM
# DP gradient reduce-scatter/all-reduce overlapped with the last backward and the ZeRO parameter
# all-gather with the next forward (Megatron-LM --overlap-grad-reduce/--overlap-param-gather,
# both off by default, which is what an unlisted flag means here).
OPT_DP_OVERLAP = "dp-comm-overlap"
OPT_FLASH = "flash-attention"  # fused attention even where the reference code is unfused
# ZeRO-3/FSDP: keep a layer's gathered weights from its forward to its backward (FSDP
# reshard_after_forward=False, fairseq --no-reshard-after-forward): no backward all-gather
OPT_NO_RESHARD_FWD = "no-reshard-after-forward"
# ZeRO-3/FSDP: keep the gathered weights across gradient-accumulation micro-batches (FSDP2
# set_reshard_after_backward(False)): one all-gather per step
OPT_NO_RESHARD_BWD = "no-reshard-after-backward"
# Megatron-LM without the asynchronous input-gradient all-reduce of column-parallel layers
# (before commit cf7efd4f5a, 2021-08-30; --no-async-tensor-model-parallel-allreduce since): every
# backward TP collective waits (perf/train/passes.py)
OPT_NO_ASYNC_TP = "no-async-tp-allreduce"
# weight gradients added into the gradient buffer by a separate kernel each micro-batch (autograd
# accumulation, or Megatron-LM before commit 83b1e42f30, 2022-02-13 / --no-gradient-accumulation-
# fusion) instead of inside the weight-gradient GEMM (perf/train/step.py)
OPT_NO_GRAD_ACC_FUSION = "no-grad-accumulation-fusion"
FLAGS = (
    OPT_TP_OVERLAP,
    OPT_CUDA_GRAPHS,
    OPT_MOE_LOOP,
    OPT_DP_OVERLAP,
    OPT_FLASH,
    OPT_NO_RESHARD_FWD,
    OPT_NO_RESHARD_BWD,
    OPT_NO_ASYNC_TP,
    OPT_NO_GRAD_ACC_FUSION,
)
assert set(FLAGS) <= set(OPTIMIZATIONS), "every training flag is a core.specs.OPTIMIZATIONS name"

Int = NDArray[np.int64]
Bool = NDArray[np.bool_]


@dataclass(frozen=True)
class PlanArrays:
    """Degrees and choices of N plans; every field has shape (N,)."""

    dp: Int
    tp: Int
    pp: Int
    ep: Int
    cp: Int
    microbatch: Int
    zero: Int
    schedule: Int
    virtual: Int
    recompute: Int
    fp8: Bool
    sp: Bool
    comm_sms: Int
    dual_overlap: Bool
    tp_overlap: Bool
    cuda_graphs: Bool
    moe_loop: Bool
    dp_overlap: Bool
    flash_attn: Bool
    fp32: Bool  # matmuls in fp32 (e.g. CPU lab runs); fp8 and fp32 are never both set
    no_reshard_fwd: Bool
    no_reshard_bwd: Bool
    fp16: Bool  # Megatron-LM fp16: gradients kept and reduced in fp16, loss-scaled optimizer step
    no_async_tp: Bool
    no_grad_acc_fusion: Bool

    @property
    def size(self) -> int:
        return int(self.dp.shape[0])

    def take(self, index: NDArray[np.int64] | NDArray[np.bool_]) -> PlanArrays:
        """The subset of plans selected by an index or mask."""
        return PlanArrays(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    def plan(self, i: int) -> ParallelPlan:
        """Plan i as a ParallelPlan (the inverse of from_plans)."""
        opts = [
            o
            for o, flag in zip(
                FLAGS,
                (
                    self.tp_overlap,
                    self.cuda_graphs,
                    self.moe_loop,
                    self.dp_overlap,
                    self.flash_attn,
                    self.no_reshard_fwd,
                    self.no_reshard_bwd,
                    self.no_async_tp,
                    self.no_grad_acc_fusion,
                ),
                strict=True,
            )
            if bool(flag[i])
        ]
        return ParallelPlan(
            dp=int(self.dp[i]),
            tp=int(self.tp[i]),
            pp=int(self.pp[i]),
            ep=int(self.ep[i]),
            cp=int(self.cp[i]),
            zero_stage=int(self.zero[i]),  # type: ignore[arg-type]
            schedule=SCHEDULES[int(self.schedule[i])],  # type: ignore[arg-type]
            virtual_stages=int(self.virtual[i]),
            microbatch_size=int(self.microbatch[i]),
            recompute=RECOMPUTES[int(self.recompute[i])],  # type: ignore[arg-type]
            precision=_precision(bool(self.fp8[i]), bool(self.fp32[i]), bool(self.fp16[i])),
            sequence_parallel=bool(self.sp[i]),
            comm_sms=int(self.comm_sms[i]),
            dual_microbatch_overlap=bool(self.dual_overlap[i]),
            optimizations=opts,  # type: ignore[arg-type]
        )


def _precision(fp8: bool, fp32: bool, fp16: bool) -> str:
    return "fp8" if fp8 else ("fp32" if fp32 else ("fp16" if fp16 else "bf16"))


def default_virtual_stages(plan: ParallelPlan, model: ModelSpec) -> int:
    """virtual_stages as given; for interleaved 1F1B without it, the fewest chunks >= 2 that split
    an even stage's layers evenly (Megatron-LM requires layers % (pp x v) == 0; 1 if none does),
    and 2 for uneven stages (custom layouts such as Llama 3's, which interleave freely)."""
    if plan.virtual_stages is not None:
        return plan.virtual_stages
    if plan.schedule != "interleaved-1f1b" or plan.pp <= 1:
        return 1
    if model.num_layers % plan.pp:
        return max(1, min(DEFAULT_VIRTUAL_STAGES, model.num_layers // plan.pp))
    per_stage = model.num_layers // plan.pp
    return next((v for v in range(DEFAULT_VIRTUAL_STAGES, per_stage + 1) if per_stage % v == 0), 1)


def from_plans(
    plans: list[ParallelPlan],
    model: ModelSpec,
    num_devices: int,
    global_batch_size: int | None = None,
) -> PlanArrays:
    """Arrays for a list of ParallelPlans (dp derived from the device count where not given; an
    unset micro-batch from `global_batch_size` by ParallelPlan.micro_batch, else 1)."""

    def micro(p: ParallelPlan) -> int:
        if global_batch_size is None:
            return p.microbatch_size or 1
        return p.micro_batch(global_batch_size, num_devices)

    def col(values: list[int]) -> Int:
        return np.asarray(values, dtype=np.int64)

    def flag(values: list[bool]) -> Bool:
        return np.asarray(values, dtype=bool)

    return PlanArrays(
        dp=col([p.data_parallel_degree(num_devices) for p in plans]),
        tp=col([p.tp for p in plans]),
        pp=col([p.pp for p in plans]),
        ep=col([p.ep for p in plans]),
        cp=col([p.cp for p in plans]),
        microbatch=col([micro(p) for p in plans]),
        zero=col([p.zero_stage for p in plans]),
        schedule=col([SCHEDULES.index(p.schedule) for p in plans]),
        virtual=col([default_virtual_stages(p, model) for p in plans]),
        recompute=col([RECOMPUTES.index(p.recompute) for p in plans]),
        fp8=flag([p.precision in ("fp8", "fp4", "int8") for p in plans]),
        sp=flag([p.sequence_parallel for p in plans]),
        comm_sms=col([p.comm_sms for p in plans]),
        dual_overlap=flag([p.dual_microbatch_overlap for p in plans]),
        tp_overlap=flag([OPT_TP_OVERLAP in p.optimizations for p in plans]),
        cuda_graphs=flag([OPT_CUDA_GRAPHS in p.optimizations for p in plans]),
        moe_loop=flag([OPT_MOE_LOOP in p.optimizations for p in plans]),
        dp_overlap=flag([OPT_DP_OVERLAP in p.optimizations for p in plans]),
        flash_attn=flag([OPT_FLASH in p.optimizations for p in plans]),
        fp32=flag([p.precision in ("fp32", "tf32") for p in plans]),
        no_reshard_fwd=flag([OPT_NO_RESHARD_FWD in p.optimizations for p in plans]),
        no_reshard_bwd=flag([OPT_NO_RESHARD_BWD in p.optimizations for p in plans]),
        fp16=flag([p.precision == "fp16" for p in plans]),
        no_async_tp=flag([OPT_NO_ASYNC_TP in p.optimizations for p in plans]),
        no_grad_acc_fusion=flag([OPT_NO_GRAD_ACC_FUSION in p.optimizations for p in plans]),
    )
