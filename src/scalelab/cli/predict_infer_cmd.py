"""`scalelab predict infer SCENARIO.toml`: serving metrics of one deployment (collocated or disaggregated)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import typer

from scalelab.cli.common import (
    JsonOption,
    PriceOption,
    examples,
    finite,
    out,
    print_json,
    rich_table,
    site_from_flags,
)
from scalelab.cli.predict_cmd import with_topology
from scalelab.core.errors import located
from scalelab.perf.serve.disagg import DisaggResult
from scalelab.perf.serve.predict import InferenceResult
from scalelab.plan.serve_scenario import ServeScenario, load_serve_scenario, predict_serve
from scalelab.report.serving_tables import inference_tables


def result_json(r: InferenceResult | DisaggResult) -> dict[str, Any]:
    """The `--json` results of `predict infer` (the result's own to_dict)."""
    return r.to_dict()


def _with_targets(s: ServeScenario, ttft_ms: float | None, tpot_ms: float | None) -> ServeScenario:
    """Latency-target flags override the workload's (default < file < flag)."""
    update: dict[str, float] = {}
    for value, key in ((ttft_ms, "ttft"), (tpot_ms, "tpot")):  # bounded by their options
        if value is None:
            continue
        update[f"{key}_target_s"] = value * 1e-3
    if not update:
        return s
    w = s.workload.model_copy(update=update)
    return replace(s, scenario=replace(s.scenario, workload=w))


def infer(
    scenario: Path = typer.Argument(
        ...,
        help="Scenario TOML: model, \\[hardware], \\[parallel] (vLLM/SGLang vocabulary: tp, dp, ep, "
        "pp, replicas), \\[workload], optional \\[disaggregation] (prefill_devices, parallel).",
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
    price: str = PriceOption,
    as_json: bool = JsonOption,
) -> None:
    """Predict TTFT, TPOT, tokens/s per request, per GPU and per node, concurrency, $ and J per token.

    With no batch in the workload, each phase runs at the largest batch meeting its latency
    target; the tables say which batch was chosen and show the throughput-latency curve."""
    site = site_from_flags(price, None)
    with located(str(scenario)):  # the deployment's problems are the scenario's
        loaded = _with_targets(load_serve_scenario(scenario), ttft_ms, tpot_ms)
        sc = replace(loaded.scenario, cluster=site.cluster(loaded.scenario.cluster))
        result = predict_serve(replace(loaded, scenario=with_topology(sc)))
    if as_json:
        print_json(result_json(result))
        return
    for table in inference_tables(result):
        out.print(rich_table(table))


def register(app: typer.Typer) -> None:
    """Adds `infer` to the `predict` group that scalelab.cli.predict_cmd registers first."""
    from scalelab.cli.predict_cmd import predict_app

    predict_app.command(
        "infer",
        epilog=examples(
            "scalelab predict infer examples/llama3-70b-serve.toml --tpot-ms 30",
            "scalelab predict infer examples/deepseek-v3-serve.toml --json",
        ),
    )(infer)
