"""`scalelab predict infer SCENARIO.toml`: serving metrics of one deployment (collocated or disaggregated)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from scalelab.cli.common import JsonOption, finite, out, print_json, rich_table
from scalelab.cli.predict_cmd import with_topology
from scalelab.core.errors import ConfigError, located
from scalelab.perf.serve.disagg import DisaggResult
from scalelab.perf.serve.layout import describe_layout
from scalelab.perf.serve.operating import OperatingPoint
from scalelab.perf.serve.predict import InferenceResult
from scalelab.plan.serve_scenario import ServeScenario, load_serve_scenario, predict_serve
from scalelab.report.serving_tables import inference_tables


def _point_json(op: OperatingPoint | None) -> dict[str, Any] | None:
    if op is None:
        return None
    return {
        "batch": op.batch,
        "source": op.source,
        "reason": op.reason,
        "target_s": op.target_s,
        "curve": [
            {"batch": float(b), "latency_s": float(lat), "tokens_per_s_per_device": float(r)}
            for b, lat, r in zip(
                op.curve_batch, op.curve_latency_s, op.curve_tokens_per_s_per_device, strict=True
            )
        ],
    }


def _collocated_json(r: InferenceResult) -> dict[str, Any]:
    return {
        "metrics": r.metrics(),
        "layout": describe_layout(r.layout),
        "decode_bound": r.decode_bound,
        "fits_in_memory": r.fits_in_memory,
        "concurrency_per_replica": r.concurrency_per_replica,
        "replicas": r.layout.replicas,
        "devices_per_replica": r.layout.instance_devices,
        "idle_devices": r.layout.idle_devices,
        "devices_per_node": r.devices_per_node,
        "decode_overlap": r.layout.dual_overlap,
        "prefill_overlap": r.prefill_overlap,
        "decode_point": _point_json(r.decode_point),
        "prefill_point": _point_json(r.prefill_point),
    }


def result_json(r: InferenceResult | DisaggResult) -> dict[str, Any]:
    """The `--json` results of `predict infer`."""
    if isinstance(r, InferenceResult):
        return {"mode": "collocated", **_collocated_json(r)}
    return {
        "mode": "disaggregated",
        "metrics": r.metrics(),
        "limited_by": r.limited_by,
        "devices_per_node": r.devices_per_node,
        "prefill": {"devices": r.prefill_devices, **_collocated_json(r.prefill)},
        "decode": {"devices": r.decode_devices, **_collocated_json(r.decode)},
    }


def _with_targets(s: ServeScenario, ttft_ms: float | None, tpot_ms: float | None) -> ServeScenario:
    """Latency-target flags override the workload's (default < file < flag)."""
    update: dict[str, float] = {}
    for flag, value, key in (("--ttft-ms", ttft_ms, "ttft"), ("--tpot-ms", tpot_ms, "tpot")):
        if value is None:
            continue
        if value <= 0:
            raise ConfigError(f"{flag} must be > 0, got {value}")
        update[f"{key}_target_s"] = value * 1e-3
    if not update:
        return s
    w = s.workload.model_copy(update=update)
    return replace(s, scenario=replace(s.scenario, workload=w))


def infer(
    scenario: Path = typer.Argument(
        ...,
        help="Scenario TOML: model, [hardware], [parallel] (vLLM/SGLang vocabulary: tp, dp, ep, "
        "pp, replicas), [workload], optional [disaggregation] (prefill_devices, parallel).",
    ),
    ttft_ms: float = typer.Option(
        None,
        "--ttft-ms",
        callback=finite(gt=0),
        help="TTFT target (ms) for choosing the prefill batch (default 2000).",
    ),
    tpot_ms: float = typer.Option(
        None,
        "--tpot-ms",
        callback=finite(gt=0),
        help="TPOT target (ms) for choosing the decode batch (default 50).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Predict TTFT, TPOT, tokens/s per request, per GPU and per node, concurrency, $ and J per token.

    With no batch in the workload, each phase runs at the largest batch meeting its latency
    target; the tables say which batch was chosen and show the throughput-latency curve."""
    with located(str(scenario)):  # the deployment's problems are the scenario's
        loaded = _with_targets(load_serve_scenario(scenario), ttft_ms, tpot_ms)
        result = predict_serve(replace(loaded, scenario=with_topology(loaded.scenario)))
    if as_json:
        print_json(result_json(result))
        return
    for table in inference_tables(result):
        out.print(rich_table(table))


def register(app: typer.Typer) -> None:
    """Adds `infer` to the `predict` group that scalelab.cli.predict_cmd registers first."""
    from scalelab.cli.predict_cmd import predict_app

    predict_app.command("infer")(infer)
