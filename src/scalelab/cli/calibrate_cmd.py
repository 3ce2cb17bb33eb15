"""`scalelab calibrate`: measure this machine and write a hardware profile the analytic model reads;
and `scalelab train RUN.toml --nproc N`: local workers, then measured vs predicted step time.

torch is imported inside the command only, so `scalelab --help` works without the lab extra.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from scalelab.cli.common import (
    JsonOption,
    err,
    examples,
    out,
    output_path,
    print_json,
    require_lab,
    rich_table,
)
from scalelab.report.section import Table


class DeviceChoice(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


def _summary_rows(profile: dict[str, Any]) -> list[list[str]]:
    m = profile["measured"]
    rows = [
        ["device", f"{profile['name']}"],
        ["processes x threads", f"{m['num_processes']} x {m['threads_per_process']}"],
        ["best fp32 GEMM (TFLOP/s)", f"{profile['peak_fp32_tflops']:.4g}"],
        ["best bf16 GEMM (TFLOP/s)", f"{profile['peak_bf16_tflops']:.4g}"],
        ["memory bandwidth (GB/s)", f"{profile['hbm_bandwidth_tb_per_s'] * 1e3:.4g}"],
        ["memory per device (GB)", f"{profile['hbm_gb']:.4g}"],
        ["eager op overhead (us)", f"{m['op_overhead_s'] * 1e6:.3g}"],
    ]
    if "scale_up_bandwidth_gb_per_s_per_direction" in profile:
        bw = profile["scale_up_bandwidth_gb_per_s_per_direction"]
        rows.append(["all-reduce bus bandwidth (GB/s)", f"{bw:.4g}"])
        rows.append(["all-reduce latency (us)", f"{m['all_reduce_latency_s'] * 1e6:.4g}"])
    return rows


def _gemm_rows(profile: dict[str, Any]) -> list[list[str]]:
    return [
        [r["dtype"], f"{r['m']}x{r['n']}x{r['k']}", f"{r['flops_per_s'] / 1e12:.4g}"]
        for r in profile["measured"]["gemm"]
    ]


def calibrate(
    device: DeviceChoice = typer.Option(DeviceChoice.auto, "--device", help="cpu, cuda or auto."),
    nproc: int = typer.Option(
        None,
        "--nproc",
        min=1,
        max=256,
        help="Local devices to measure at once (default: GPUs, or 2 CPU processes).",
    ),
    out_path: Path = typer.Option(
        None,
        "--out",
        callback=output_path(".toml"),
        help="Profile TOML to write (default: calibrated-DEVICE.toml).",
    ),
    quick: bool = typer.Option(
        False, "--quick", help="Fewer shapes and repeats (seconds, noisier)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Measure GEMMs, memory bandwidth, attention and all-reduce/all-gather among local processes;
    write an accelerator profile for `scalelab predict train SCENARIO --hardware PROFILE.toml`
    (or `accelerator = "PROFILE.toml"` in a scenario)."""
    require_lab()
    from scalelab.lab.calibrate.profile import write_profile
    from scalelab.lab.calibrate.run import calibrate as measure

    with err.status(f"measuring {device.value} ({'quick' if quick else 'full'})..."):
        cal = measure(device.value, nproc, quick)
    path = out_path or Path(f"calibrated-{cal.device_type}.toml")
    profile = write_profile(path, cal)
    if as_json:
        print_json({"profile": str(path), **profile})
        return
    out.print(
        rich_table(
            Table(f"Calibration -> {path}", ["quantity", "measured"], _summary_rows(profile))
        )
    )
    out.print(
        rich_table(Table("GEMM throughput", ["dtype", "m x n x k", "TFLOP/s"], _gemm_rows(profile)))
    )


def register(app: typer.Typer) -> None:
    app.command(
        "calibrate",
        epilog=examples(
            "scalelab calibrate --quick --out cpu-profile.toml",
            "scalelab predict train examples/llama3-405b-train.toml --hardware cpu-profile.toml",
        ),
    )(calibrate)


def _dist_rows(summary: dict[str, Any], comparison: Any) -> list[list[str]]:
    losses = summary["losses"]
    last = max(losses, key=int) if losses else None
    measured = summary["median_step_time_s"]
    rows = [
        ["processes", str(summary["world_size"])],
        ["steps", f"{summary['start_step']} -> {summary['end_step']}"],
        ["train loss (global batch)", f"{losses[last]:.4f} at step {last}" if last else "-"],
        ["measured step time (median)", f"{measured:.4g} s"],
        ["tokens/s", f"{summary['tokens_per_step'] / measured:,.0f}"],
    ]
    if comparison is not None:
        rows.append(
            ["predicted step time (scalelab.perf)", f"{comparison.predicted_step_time_s:.4g} s"]
        )
        rows.append(["measured / predicted", f"{comparison.ratio:.3g}"])
    else:
        rows.append(["predicted step time", "pass --hardware PROFILE.toml (scalelab calibrate)"])
    return rows


def _compare(run: Any, summary: dict[str, Any], nproc: int, hardware: Path) -> Any:
    from scalelab.lab.parallel.launch import select_backend
    from scalelab.lab.parallel.predict import compare_step_time

    device_type, _ = select_backend(run.run.train.device)
    measured = summary["median_step_time_s"]
    return compare_step_time(run, measured, nproc, hardware, device_type)


def train_distributed(
    run_file: Path,
    nproc: int,
    overrides: dict[str, dict[str, object]],
    resume: bool = False,
    max_restarts: int = 0,
    hardware: Path | None = None,
    as_json: bool = False,
) -> None:
    """`scalelab train RUN.toml --nproc N`: N local workers (`lab/parallel/local.py`), then the
    measured step time next to the analytic prediction for the same model, plan and profile."""
    import json

    from scalelab.lab.parallel.config import load_dist_run
    from scalelab.lab.parallel.dims import ParallelDims
    from scalelab.lab.parallel.local import run_local
    from scalelab.lab.parallel.train_dist import SUMMARY

    run = load_dist_run(run_file, overrides)
    m = run.run.model
    ParallelDims.from_plan(run.plan, nproc).check_model(
        m.n_heads, m.ffn_width, m.n_layers, m.seq_len
    )
    extra = ["--resume"] if resume else []
    extra += ["--out", str(run.out_dir)]
    if "train" in overrides:
        extra += ["--steps", str(run.run.train.steps)]
    run_local([str(run_file), *extra], nproc, max_restarts)  # one-line ScalelabError on failure
    summary = json.loads((run.out_dir / SUMMARY).read_text())
    comparison = _compare(run, summary, nproc, hardware) if hardware is not None else None
    if as_json:
        print_json({**summary, "comparison": comparison.to_dict() if comparison else None})
        return
    title = f"scalelab train {run_file} --nproc {nproc}"
    out.print(rich_table(Table(title, ["metric", "value"], _dist_rows(summary, comparison))))
