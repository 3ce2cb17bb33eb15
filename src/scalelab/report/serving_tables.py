"""Tables of one serving prediction (`scalelab predict infer`): headline metrics with throughput per
device first and per node beside it, the layout, why each batch was chosen, the
throughput-latency curve, the decode-step breakdown, and for a disaggregated deployment each pool."""

from __future__ import annotations

from rich.markup import escape

from scalelab.perf.serve.disagg import DisaggResult
from scalelab.perf.serve.layout import describe_layout, layout_label
from scalelab.perf.serve.operating import OperatingPoint, display_rows
from scalelab.perf.serve.predict import InferenceResult
from scalelab.report.section import Table


def cell(value: float | None, fmt: str, scale: float = 1.0) -> str:
    return "-" if value is None else format(value * scale, fmt)


def device_word(kind: str) -> str:
    """'GPU' for GPUs, the kind in capitals otherwise ('TPU', 'CIM', ...)."""
    return kind.upper()


def rate_rows(
    label: str, per_device: float | None, node: int, word: str = "GPU"
) -> list[list[str]]:
    """`X tokens/s per GPU` first, then per node with the node size stated."""
    return [
        [f"{label} tokens/s per {word}", cell(per_device, ",.0f")],
        [
            f"{label} tokens/s per node ({node} {word}s)",
            cell(None if per_device is None else per_device * node, ",.0f"),
        ],
    ]


def _collocated_rows(r: InferenceResult) -> list[list[str]]:
    n, word = r.devices_per_node, device_word(r.device_kind)
    rows = [
        ["TTFT (ms)", cell(r.ttft_s, ",.2f", 1e3)],
        ["TPOT (ms)", cell(r.tpot_s, ",.3f", 1e3)],
        ["tokens/s per request", cell(r.tokens_per_s_per_request, ",.1f")],
        *rate_rows("output", r.output_tokens_per_s_per_device, n, word),
        *rate_rows("input", r.input_tokens_per_s_per_device, n, word),
        ["output tokens/s, all replicas", cell(r.output_tokens_per_s, ",.0f")],
        ["max concurrency (sequences)", f"{r.max_concurrency:,}"],
        ["$ per million output tokens", cell(r.usd_per_million_output_tokens, ",.3f")],
        ["EP dispatch+combine per layer step (us)", cell(r.ep_comm_s_per_layer_step, ",.2f", 1e6)],
        ["joules per output token (facility)", cell(r.joules_per_token, ",.3f")],
        [f"joules per output token ({word} boards)", cell(r.board_joules_per_token, ",.3f")],
        [f"average {word} power in decode (W)", cell(r.board_w, ",.0f")],
        ["decode bound", r.decode_bound or "-"],
        ["concurrency per replica", f"{r.concurrency_per_replica:,.0f}"],
        ["fits in memory", "yes" if r.fits_in_memory else "NO"],
    ]
    return rows


def operating_notes(r: InferenceResult) -> str:
    """The layout and why each phase's batch was chosen, one line each."""
    lines = [f"layout: {describe_layout(r.layout)}"]
    if r.decode_point is not None:
        lines.append(f"decode batch: {r.decode_point.reason}")
    if r.prefill_point is not None:
        overlap = " (two micro-batches overlapped)" if r.prefill_overlap else ""
        lines.append(f"prefill batch{overlap}: {r.prefill_point.reason}")
    return "\n".join(escape(line) for line in lines)


def curve_table(op: OperatingPoint, word: str = "GPU") -> Table:
    """The throughput-latency curve an operating point was chosen from (chosen row marked)."""
    decode = op.phase == "decode"
    latency = "TPOT ms" if decode else "TTFT ms"
    batch = "sequences per replica" if decode else "prompts per attention group"
    rate = f"{'output' if decode else 'input'} tok/s per {word}"
    rows = []
    for i in display_rows(op):
        b, lat = op.curve_batch[i], op.curve_latency_s[i]
        tps = op.curve_tokens_per_s_per_device[i]
        mark = "<- chosen" if abs(b - op.batch) <= 1e-9 * max(1.0, b) else ""
        rows.append([f"{b:,.0f}", f"{lat * 1e3:,.2f}", f"{tps:,.0f}", mark])
    target = f"target {op.target_s * 1e3:g} ms" if op.target_s else "batch fixed by the workload"
    return Table(
        f"{op.phase.capitalize()} throughput vs latency ({target})",
        [batch, latency, rate, ""],
        rows,
    )


def _breakdown(r: InferenceResult) -> Table | None:
    if r.decode is None:
        return None
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
    return Table(
        f"Decode step {float(d.step_s) * 1e3:,.3f} ms: time per component (summed, may overlap)",
        ["component", "ms"],
        [[k, f"{float(v) * 1e3:,.3f}"] for k, v in parts],
    )


def collocated_tables(r: InferenceResult) -> list[Table]:
    tables = [
        Table("Serving prediction", ["metric", "value"], _collocated_rows(r), operating_notes(r))
    ]
    for op in (r.decode_point, r.prefill_point):
        if op is not None and op.curve_batch.size:
            tables.append(curve_table(op, device_word(r.device_kind)))
    breakdown = _breakdown(r)
    if breakdown is not None:
        tables.append(breakdown)
    return tables


def _pool_row(name: str, devices: int, r: InferenceResult, decode: bool) -> list[str]:
    rate = r.output_tokens_per_s_per_device if decode else r.input_tokens_per_s_per_device
    return [
        f"{name} ({devices:,})",
        escape(layout_label(r.layout)),
        cell(rate, ",.0f"),
        cell(None if rate is None else rate * r.devices_per_node, ",.0f"),
        cell(r.tpot_s if decode else r.ttft_s, ",.2f", 1e3),
        cell(r.joules_per_token if decode else None, ",.3f"),
        cell(r.usd_per_million_output_tokens if decode else None, ",.3f"),
    ]


def disaggregated_tables(r: DisaggResult) -> list[Table]:
    n, word = r.devices_per_node, device_word(r.decode.device_kind)
    system = [
        ["TTFT incl. KV handoff (ms)", cell(r.ttft_s, ",.2f", 1e3)],
        ["TPOT (ms)", cell(r.tpot_s, ",.3f", 1e3)],
        ["tokens/s per request", cell(r.tokens_per_s_per_request, ",.1f")],
        *rate_rows("system output", r.system_output_tokens_per_s_per_device, n, word),
        ["output tokens/s, whole system", cell(r.output_tokens_per_s, ",.0f")],
        ["system rate limited by", r.limited_by],
        ["max concurrency (sequences)", f"{r.max_concurrency:,}"],
        ["$ per million output tokens", cell(r.usd_per_million_output_tokens, ",.3f")],
        ["joules per output token (facility, both pools)", cell(r.joules_per_token, ",.3f")],
        ["KV handoff per request (ms)", f"{r.kv_transfer_s * 1e3:,.2f}"],
        ["balanced prefill share of devices", f"{100 * r.balanced_prefill_device_frac:.1f}%"],
    ]
    pools = Table(
        "Pools: each pool's layout and its own rate (prefill: input, decode: output tokens); "
        "J and $ per output token of the decode pool alone",
        [
            "pool (devices)",
            "layout",
            f"tok/s/{word}",
            f"per node ({n})",
            "TTFT|TPOT ms",
            "J/tok",
            "$/M tok",
        ],
        [
            _pool_row("prefill", r.prefill_devices, r.prefill, decode=False),
            _pool_row("decode", r.decode_devices, r.decode, decode=True),
        ],
        note="\n".join(
            [
                escape(f"prefill layout: {describe_layout(r.prefill.layout)}"),
                escape(f"decode layout: {describe_layout(r.decode.layout)}"),
                *(
                    escape(f"{name} batch: {op.reason}")
                    for name, op in (
                        ("prefill", r.prefill.prefill_point),
                        ("decode", r.decode.decode_point),
                    )
                    if op is not None
                ),
            ]
        ),
    )
    tables = [
        Table(
            "Serving prediction (prefill/decode disaggregated); system rates count both pools' "
            "devices, each pool's own rate is in the next table",
            ["metric", "value"],
            system,
        ),
        pools,
    ]
    if r.decode.decode_point is not None and r.decode.decode_point.curve_batch.size:
        tables.append(curve_table(r.decode.decode_point, word))
    return tables


def inference_tables(r: InferenceResult | DisaggResult) -> list[Table]:
    """Every table `scalelab predict infer` prints for one prediction."""
    if isinstance(r, DisaggResult):
        return disaggregated_tables(r)
    return collocated_tables(r)
