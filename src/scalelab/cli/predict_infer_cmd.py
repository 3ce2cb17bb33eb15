"""`scalelab predict infer SCENARIO.toml`: serving metrics of one deployment (collocated or disaggregated)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from scalelab.cli.common import JsonOption, out, print_json, rich_table
from scalelab.cli.predict_cmd import with_topology
from scalelab.perf.serve.disagg import DisaggResult
from scalelab.perf.serve.predict import InferenceResult
from scalelab.plan.serve_scenario import load_serve_scenario, predict_serve
from scalelab.report.section import Table


def _cell(value: float | None, fmt: str, scale: float = 1.0) -> str:
    return "-" if value is None else format(value * scale, fmt)


def inference_tables(r: InferenceResult | DisaggResult) -> list[Table]:
    """Headline metrics (ms, tokens/s, $) and, for a collocated prediction, the decode-step breakdown."""
    rows = [
        ["TTFT (ms)", _cell(r.ttft_s, ",.2f", 1e3)],
        ["TPOT (ms)", _cell(r.tpot_s, ",.3f", 1e3)],
        ["tokens/s per request", _cell(r.tokens_per_s_per_request, ",.1f")],
        ["output tokens/s per node", _cell(r.output_tokens_per_s_per_node, ",.0f")],
        ["input tokens/s per node", _cell(r.input_tokens_per_s_per_node, ",.0f")],
        ["max concurrency (sequences)", f"{r.max_concurrency:,}"],
        ["$ per million output tokens", _cell(r.usd_per_million_output_tokens, ",.3f")],
        ["EP dispatch+combine per layer step (us)", _cell(r.ep_comm_s_per_layer_step, ",.2f", 1e6)],
    ]
    if isinstance(r, DisaggResult):
        rows += [
            ["KV handoff per request (ms)", f"{r.kv_transfer_s * 1e3:,.2f}"],
            ["balanced prefill share of devices", f"{100 * r.balanced_prefill_device_frac:.1f}%"],
        ]
        return [
            Table("Serving prediction (prefill/decode disaggregated)", ["metric", "value"], rows)
        ]
    rows += [
        ["joules per output token", _cell(r.joules_per_token, ",.3f")],
        ["decode bound", r.decode_bound or "-"],
        ["concurrency per replica", f"{r.concurrency_per_replica:,.0f}"],
        ["fits in memory", "yes" if r.fits_in_memory else "NO"],
    ]
    tables = [Table("Serving prediction", ["metric", "value"], rows)]
    if r.decode is not None:
        d = r.decode
        parts = [
            ("attention (projections + KV)", d.attention_s),
            ("FFN / experts", d.ffn_s),
            ("norms, head, MTP", d.other_s),
            ("TP collectives", d.tp_comm_s),
            ("EP dispatch+combine", d.ep_comm_s),
            ("pipeline sends", d.pp_comm_s),
            ("exposed communication", d.exposed_comm_s),
        ]
        tables.append(
            Table(
                f"Decode step {float(d.step_s) * 1e3:,.3f} ms: time per component (summed, may overlap)",
                ["component", "ms"],
                [[k, f"{float(v) * 1e3:,.3f}"] for k, v in parts],
            )
        )
    return tables


def infer(
    scenario: Path = typer.Argument(
        ...,
        help="Scenario TOML: model, [hardware], [parallel], [workload], "
        "optional [disaggregation] (prefill_devices, parallel).",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Predict TTFT, TPOT, tokens/s per request and per node, max concurrency and $ per million tokens."""
    loaded = load_serve_scenario(scenario)
    result = predict_serve(replace(loaded, scenario=with_topology(loaded.scenario)))
    if as_json:
        data: dict[str, object] = {"metrics": result.metrics(), "mode": "collocated"}
        if isinstance(result, InferenceResult):
            data.update(
                decode_bound=result.decode_bound,
                fits_in_memory=result.fits_in_memory,
                concurrency_per_replica=result.concurrency_per_replica,
                replicas=result.layout.replicas,
                devices_per_replica=result.layout.instance_devices,
            )
        else:
            data.update(
                mode="disaggregated",
                prefill=result.prefill.metrics(),
                decode=result.decode.metrics(),
            )
        print_json(data)
        return
    for table in inference_tables(result):
        out.print(rich_table(table))


def register(app: typer.Typer) -> None:
    """Adds `infer` to the `predict` group that scalelab.cli.predict_cmd registers first."""
    from scalelab.cli.predict_cmd import predict_app

    predict_app.command("infer")(infer)
