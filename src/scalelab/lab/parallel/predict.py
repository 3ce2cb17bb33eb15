"""Measured vs predicted: the analytic model (`scalelab.perf.train.predict.predict_train`) on the same
model, plan and calibrated hardware profile as a lab run, next to the step time it measured.

The plan handed to the model is the one the lab executed: dp filled in, precision as run
(fp32 on CPU), and without pipelining the per-rank batch is one micro-batch.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from scalelab.core.scenario import Scenario, resolve_accelerator, resolve_cluster
from scalelab.core.specs import AcceleratorSpec, ClusterSpec, ModelSpec, ParallelPlan, TrainWorkload
from scalelab.lab.models.transformer import TransformerConfig
from scalelab.lab.parallel.config import DistRun
from scalelab.lab.parallel.dims import ParallelDims
from scalelab.perf.train.predict import TrainPrediction, predict_train


def model_spec(cfg: TransformerConfig) -> ModelSpec:
    """The lab transformer as the analytic model sees it (learned positions are not modeled)."""
    return ModelSpec(
        name="lab-transformer",
        num_layers=cfg.n_layers,
        hidden_size=cfg.d_model,
        num_attention_heads=cfg.n_heads,
        ffn_hidden_size=cfg.ffn_width,
        vocab_size=cfg.vocab_size,
        activation="swiglu" if cfg.mlp == "swiglu" else "gelu",
        tied_embeddings=cfg.tie_embeddings,
    )


def cluster_spec(profile: str | Path, num_devices: int) -> ClusterSpec:
    """`num_devices` of a calibrated profile on one node, joined by the measured local link
    (its bandwidth, and the latency of the smallest all-reduce measured)."""
    acc = resolve_accelerator(str(profile), str(profile))
    scale_up: dict[str, Any] = {"kind": acc.scale_up_kind or "local"}
    latency_s = acc.measured.get("all_reduce_latency_s")
    if latency_s:
        scale_up["latency_s"] = float(latency_s)
    if acc.measured.get("all_reduce"):
        scale_up["achievable_frac"] = 1.0  # already an achieved bus bandwidth
    if acc.scale_up_bandwidth_bytes_per_s_per_direction is None:
        scale_up["bandwidth_bytes_per_s_per_direction"] = acc.hbm_bandwidth_bytes_per_s
    table = {
        "accelerator": str(profile),
        "num_devices": num_devices,
        "devices_per_node": num_devices,
        "scale_up": scale_up,
    }
    return resolve_cluster(table, str(profile))


def measured_in(acc: AcceleratorSpec, dtype: str) -> AcceleratorSpec:
    """The profile with its per-dtype records (elementwise ops, attention) narrowed to the dtype
    the run executes, so the kernel model sees the rates of that dtype; GEMMs keep every dtype."""

    def keep(records: Any) -> Any:
        if not isinstance(records, list):
            return records
        same = [r for r in records if r.get("dtype") in (None, dtype)]
        return same or records

    narrowed = {k: (v if k == "gemm" else keep(v)) for k, v in acc.measured.items()}
    return acc.model_copy(update={"measured": narrowed})


def executed_precision(run: DistRun, device_type: str) -> str:
    p = run.run.train.precision
    if p == "auto":
        return "bf16" if device_type == "cuda" else "fp32"
    return p


def executed_plan(run: DistRun, world_size: int, device_type: str) -> ParallelPlan:
    """The ParallelPlan exactly as the lab ran it on `world_size` processes."""
    dims = ParallelDims.from_plan(run.plan, world_size)
    micro = dims.microbatch_size
    if dims.pp == 1:
        micro = dims.local_batch_size(run.run.train.batch_size)
    return run.plan.model_copy(
        update={
            "dp": dims.dp,
            "precision": executed_precision(run, device_type),
            "microbatch_size": micro,
            "sequence_parallel": dims.sequence_parallel,
        }
    )


def predict_run(
    run: DistRun, world_size: int, profile: str | Path, device_type: str = "cpu"
) -> TrainPrediction:
    """The analytic model's prediction of one training step of `run`."""
    workload = TrainWorkload(
        global_batch_size=run.run.train.batch_size,
        seq_len=run.run.model.seq_len,
        dtype=executed_precision(run, device_type),
    )
    cluster = cluster_spec(profile, world_size)
    acc = measured_in(cluster.accelerator, workload.dtype)
    scenario = Scenario(
        model=model_spec(run.run.model),
        cluster=cluster.model_copy(update={"accelerator": acc}),
        plan=executed_plan(run, world_size, device_type),
        workload=workload,
    )
    return predict_train(scenario)


@dataclass(frozen=True)
class StepComparison:
    """Measured and predicted seconds per step; ratio = measured / predicted."""

    measured_step_time_s: float
    predicted_step_time_s: float
    predicted_breakdown_s: dict[str, float]

    @property
    def ratio(self) -> float:
        return self.measured_step_time_s / self.predicted_step_time_s

    @property
    def error_frac(self) -> float:
        """|predicted - measured| / measured."""
        return abs(self.predicted_step_time_s - self.measured_step_time_s) / (
            self.measured_step_time_s
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "error_frac": self.error_frac}


def compare_step_time(
    run: DistRun,
    measured_step_time_s: float,
    world_size: int,
    profile: str | Path,
    device_type: str,
) -> StepComparison:
    """The measured step time next to the calibrated prediction for the same run."""
    pred = predict_run(run, world_size, profile, device_type)
    return StepComparison(measured_step_time_s, pred.step_time_s, dict(pred.breakdown_s))
