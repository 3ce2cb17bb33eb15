"""`kind: energy` metrics, two families:

* A scenario (a case with a `workload` table): a training run (global_batch_size, seq_len) or a
  serving decode (any other workload) through the calibrated power model. `joules_per_token` is
  accelerator-board energy per token (what nvidia-smi/NVML-based measurements count: trained
  tokens, or output tokens in steady decode), `board_w` the average board power, `tpot_s` the
  decode step per token; `facility_joules_per_token` adds node overhead, network and PUE.
* Operating points (no workload): board power and sustained rates of large bf16 and fp8 GEMMs, a
  large copy, and idle. The unthrottled rates come from the kernel model (perf.kernels, fitted on
  h200_kernels.json); perf.energy then applies the power cap.

Honesty note: the power model's energy per FLOP and per byte are fitted on this same case's bf16
GEMM and copy points (perf.energy.H200_FIT_POINTS) and idle_w is the measured idle, so those
metrics are calibration checks. The fp8 GEMM power and rate are held out (fp8 energy per FLOP is
the bf16 value scaled by the peak ratio), and every rate comes from the kernel model, not the case."""

from __future__ import annotations

from typing import Any

from scalelab.core.errors import ConfigError, located
from scalelab.core.scenario import load_scenario, resolve_accelerator, table
from scalelab.core.specs import AcceleratorSpec, InferenceWorkload, TrainWorkload
from scalelab.core.units import dtype_bytes
from scalelab.perf.energy import OperatingPoint, operating_point, power_model
from scalelab.perf.kernels.timing import compute_dtype, gemm_time_s, memory_bound_time_s
from scalelab.perf.serve.predict import predict_inference
from scalelab.perf.train.predict import predict_train

GEMM_N = 8192  # the square GEMM the case ran (h200_kernels.json has the same shape)
COPY_BYTES = 2 * 4 * 2**30  # a 4 GiB device-to-device copy: read + write


def gemm_point(acc: AcceleratorSpec, dtype: str, n: int = GEMM_N) -> OperatingPoint:
    """Sustained power and rates of an n^3 GEMM: kernel-model rate, compulsory traffic
    (two n x n inputs in `dtype`, bf16 output), then the power cap."""
    seconds = float(gemm_time_s(n, n, n, dtype, acc))
    flops = 2.0 * n**3
    traffic = 2 * n * n * dtype_bytes(compute_dtype(dtype, acc)) + n * n * dtype_bytes("bf16")
    return operating_point(acc, flops / seconds, traffic / seconds, dtype)


def copy_point(acc: AcceleratorSpec, nbytes: float = COPY_BYTES) -> OperatingPoint:
    """Sustained power and bandwidth of a large copy (bytes counted read + write)."""
    seconds = float(memory_bound_time_s(nbytes, acc, "copy"))
    return operating_point(acc, 0.0, nbytes / seconds)


SCENARIO_TABLES = ("model", "hardware", "parallel", "workload")


def _is_training(workload: Any) -> bool:
    return isinstance(workload, dict) and "global_batch_size" in workload


def train_energy(case: dict[str, Any]) -> dict[str, float]:
    """Board power and energy per trained token of the case's training scenario."""
    tables = {k: case[k] for k in SCENARIO_TABLES if k in case}
    sc = load_scenario(tables, "train", f"case {case.get('id')}")
    assert isinstance(sc.workload, TrainWorkload)
    pred = predict_train(sc)
    board = pred.avg_device_power_w or 0.0
    return {
        "board_w": board,
        "joules_per_token": board * sc.cluster.num_devices / pred.tokens_per_s,
        "facility_joules_per_token": pred.joules_per_token or 0.0,
        "step_time_s": pred.step_time_s,
        "tokens_per_s": pred.tokens_per_s,
    }


def decode_energy(case: dict[str, Any]) -> dict[str, float]:
    """Board power and energy per output token of the case's serving scenario in steady decode
    (phase both: the prefill of the prompts is time-sliced in and its energy counted)."""
    tables = {k: case[k] for k in SCENARIO_TABLES if k in case}
    where = f"case {case.get('id')}"
    workload = dict(tables["workload"])
    if workload.setdefault("phase", "decode") not in ("decode", "both"):
        raise ConfigError(
            f"{where}: workload.phase must be decode (steady decode) or both (a server that also "
            f"prefills the prompts) for an energy case"
        )
    sc = load_scenario({**tables, "workload": workload}, "infer", where)
    assert isinstance(sc.workload, InferenceWorkload)
    r = predict_inference(sc.model, sc.cluster, sc.plan, sc.workload)
    if r.board_w is None or r.board_joules_per_token is None or r.tpot_s is None:
        raise ConfigError(f"{where}: no decode energy for this scenario")
    out = {
        "board_w": r.board_w,
        "joules_per_token": r.board_joules_per_token,
        "tpot_s": r.tpot_s,
        "concurrency_per_replica": r.concurrency_per_replica,
    }
    if r.joules_per_token is not None:
        out["facility_joules_per_token"] = r.joules_per_token
    return out


def compute(case: dict[str, Any]) -> dict[str, float]:
    """A scenario's energy per token, or the power-model operating points of an accelerator."""
    if "workload" in case:
        return train_energy(case) if _is_training(case["workload"]) else decode_energy(case)
    return power_points(case)


def power_points(case: dict[str, Any]) -> dict[str, float]:
    """Power-model predictions for the case's accelerator."""
    hardware = table(case.get("hardware", {}), f"case {case.get('id')}: hardware")
    with located(f"case {case.get('id')}: hardware"):
        acc = resolve_accelerator(
            hardware.get("accelerator", "h200-sxm-141gb"), f"case {case.get('id')}: hardware"
        )
    bf16, copy = gemm_point(acc, "bf16"), copy_point(acc)
    out = {
        "idle_w": power_model(acc).idle_w,
        "board_w": acc.tdp_w,
        "bf16_gemm_w": bf16.power_w,
        "bf16_gemm_flops_per_s": bf16.flops_per_s,
        "bf16_gemm_throttle_frac": bf16.throttle_frac,
        "copy_w": copy.power_w,
        "copy_bytes_per_s": copy.bytes_per_s,
    }
    if acc.peak_fp8_flops_per_s:
        fp8 = gemm_point(acc, "fp8")
        out |= {
            "fp8_gemm_w": fp8.power_w,
            "fp8_gemm_flops_per_s": fp8.flops_per_s,
            "fp8_gemm_throttle_frac": fp8.throttle_frac,
        }
    return out
