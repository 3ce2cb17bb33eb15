"""Degree arithmetic of a ParallelPlan on `world_size` processes, checked without any process.

The plan the analytic model reads (`scalelab.core.specs.ParallelPlan`) maps onto PyTorch as:
zero_stage 3 -> FSDP2 `fully_shard` (reshard after forward), zero_stage 2 -> `fully_shard`
keeping parameters gathered between forward and backward, zero_stage 0 -> DDP (FSDP2 in
replicate mode when combined with TP, since DDP does not take DTensor parameters), tp -> DTensor
tensor parallel (+ sequence parallel), pp -> `torch.distributed.pipelining` (gpipe or 1f1b).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from scalelab.core.errors import ConfigError
from scalelab.core.specs import ParallelPlan

DataParallelMode = Literal["none", "ddp", "fsdp"]
MESH_DIM_NAMES = ("pp", "dp_replicate", "dp_shard", "tp")
PIPELINE_SCHEDULES = ("gpipe", "1f1b")


@dataclass(frozen=True)
class ParallelDims:
    """Degrees on one DeviceMesh of shape (pp, dp_replicate, dp_shard, tp); dp is one of the two."""

    world_size: int
    dp: int = 1
    tp: int = 1
    pp: int = 1
    zero_stage: int = 0
    sequence_parallel: bool = False
    schedule: str = "1f1b"
    microbatch_size: int = 1
    recompute: str = "none"

    def __post_init__(self) -> None:
        for name in ("world_size", "dp", "tp", "pp", "microbatch_size"):
            if getattr(self, name) < 1:
                raise ConfigError(f"parallel.{name} must be >= 1, got {getattr(self, name)}")
        if self.dp * self.tp * self.pp != self.world_size:
            raise ConfigError(
                f"parallel: dp x tp x pp = {self.dp} x {self.tp} x {self.pp} = "
                f"{self.dp * self.tp * self.pp}, but {self.world_size} processes were launched"
            )
        if self.zero_stage == 1:
            raise ConfigError(
                "parallel.zero_stage = 1 has no PyTorch-native equivalent; use 2 (FSDP2, "
                "parameters kept gathered) or 3 (FSDP2, fully sharded)"
            )
        if self.zero_stage not in (0, 2, 3):
            raise ConfigError(f"parallel.zero_stage must be 0, 2 or 3, got {self.zero_stage}")
        if self.pp > 1 and self.schedule not in PIPELINE_SCHEDULES:
            raise ConfigError(
                f"parallel.schedule = {self.schedule!r} is not supported by the lab "
                f"(supported: {', '.join(PIPELINE_SCHEDULES)})"
            )
        if self.recompute not in ("none", "full"):
            raise ConfigError(
                f"parallel.recompute = {self.recompute!r} is not supported (none or full)"
            )

    @classmethod
    def from_plan(cls, plan: ParallelPlan, world_size: int) -> ParallelDims:
        """Check the plan against the launch and return its degrees; unsupported parts raise."""
        for name in ("cp", "ep"):
            if getattr(plan, name) != 1:
                raise ConfigError(
                    f"parallel.{name} = {getattr(plan, name)}: the lab runs dense models without "
                    f"{'context' if name == 'cp' else 'expert'} parallelism; set {name} = 1"
                )
        if plan.virtual_stages not in (None, 1):
            raise ConfigError("parallel.virtual_stages: interleaved pipelines are not supported")
        model_degree = plan.tp * plan.pp
        if world_size % model_degree:
            raise ConfigError(
                f"parallel: tp x pp = {model_degree} does not divide {world_size} processes"
            )
        dp = plan.dp if plan.dp is not None else world_size // model_degree
        return cls(
            world_size=world_size,
            dp=dp,
            tp=plan.tp,
            pp=plan.pp,
            zero_stage=plan.zero_stage,
            sequence_parallel=plan.sequence_parallel and plan.tp > 1,
            schedule=plan.schedule,
            microbatch_size=plan.microbatch_size or 1,
            recompute=plan.recompute,
        )

    @property
    def dp_mode(self) -> DataParallelMode:
        if self.zero_stage in (2, 3):
            return "fsdp"
        return "ddp" if self.dp > 1 else "none"

    @property
    def dp_replicate(self) -> int:
        return self.dp if self.dp_mode != "fsdp" else 1

    @property
    def dp_shard(self) -> int:
        return self.dp if self.dp_mode == "fsdp" else 1

    @property
    def mesh_shape(self) -> tuple[int, int, int, int]:
        return (self.pp, self.dp_replicate, self.dp_shard, self.tp)

    def local_batch_size(self, global_batch_size: int) -> int:
        """Rows each data-parallel rank trains on per step."""
        if global_batch_size % self.dp:
            raise ConfigError(
                f"train.batch_size = {global_batch_size} (the global batch) is not divisible "
                f"by dp = {self.dp}"
            )
        return global_batch_size // self.dp

    def num_microbatches(self, global_batch_size: int) -> int:
        """Pipeline microbatches per step (1 without pipelining: the local batch is one)."""
        local = self.local_batch_size(global_batch_size)
        if self.pp == 1:
            return 1
        if local % self.microbatch_size:
            raise ConfigError(
                f"parallel.microbatch_size = {self.microbatch_size} does not divide the "
                f"per-rank batch of {local} rows"
            )
        n = local // self.microbatch_size
        if self.schedule == "1f1b" and n < self.pp:
            raise ConfigError(
                f"1f1b needs at least pp = {self.pp} microbatches per step, got {n}; "
                "raise train.batch_size or lower parallel.microbatch_size"
            )
        return n

    def check_model(self, n_heads: int, ffn_width: int, n_layers: int, seq_len: int) -> None:
        """Tensor parallelism splits heads and the FFN width (and tokens under sequence
        parallelism); pipelining splits layers."""
        if n_heads % self.tp or ffn_width % self.tp:
            raise ConfigError(
                f"parallel.tp = {self.tp} must divide model.n_heads ({n_heads}) and the FFN "
                f"width ({ffn_width}); set model.d_ff or change tp"
            )
        if self.sequence_parallel and seq_len % self.tp:
            raise ConfigError(
                f"sequence parallelism splits model.seq_len ({seq_len}) over tp = {self.tp}; "
                "make it divisible or set parallel.sequence_parallel = false"
            )
        if n_layers < self.pp:
            raise ConfigError(f"parallel.pp = {self.pp} exceeds model.n_layers = {n_layers}")
