"""Report section: serving. Decode speed limit set by expert-parallel communication per interconnect,
throughput per GPU (per node beside it) and cost per million tokens of a few deployments, MLA vs
GQA KV cache and batch, and the TPOT-throughput Pareto frontier."""

from __future__ import annotations

from scalelab.core import catalog
from scalelab.core.errors import ScalelabError
from scalelab.core.scenario import resolve_cluster
from scalelab.core.specs import ClusterSpec, InferenceWorkload, ModelSpec, ParallelPlan
from scalelab.perf.serve.kv import HBM_USABLE_FRAC, kv_elems_per_token_layer
from scalelab.perf.serve.layout import make_layout, weight_bytes_per_device
from scalelab.perf.serve.predict import predict_inference
from scalelab.plan.serve import plan_serve
from scalelab.report.context import ReportContext
from scalelab.report.plots import bar_chart
from scalelab.report.plots_serving import pareto_plot
from scalelab.report.section import Figure, KeyNumber, Section, Table

# (label, accelerator, devices, per-device EP bandwidth B/s or None for the hardware's own)
EP_LIMIT_CASES = (
    ("400G InfiniBand, H800 x 320 (EP320)", "h800-sxm5-80gb", 320, 50e9),
    ("H800 NVLink speed (200 GB/s), EP320", "h800-sxm5-80gb", 320, 200e9),
    ("GB200 NVL72 NVLink 5, EP72", "gb200", 72, 900e9),
)
SERVE_WORKLOAD = InferenceWorkload(
    prompt_tokens=2048, output_tokens=512, dtype="fp8", ttft_target_s=2.0, tpot_target_s=0.05
)
PARETO_CLUSTERS = ("h800-sxm5-80gbx64", "h200-sxm-141gbx16", "gb200x72")


def _cell(value: float | None, fmt: str, scale: float = 1.0) -> str:
    return "-" if value is None else format(value * scale, fmt)


def _ep_limit_rows(m: ModelSpec) -> tuple[list[list[str]], list[float]]:
    rows, speeds = [], []
    for label, acc, n, bw in EP_LIMIT_CASES:
        cluster = resolve_cluster({"accelerator": acc, "num_devices": n})
        plan = ParallelPlan(ep=n, dual_microbatch_overlap=True, one_expert_per_device=n >= 320)
        limit = predict_inference(
            m,
            cluster,
            plan,
            InferenceWorkload(
                phase="decode",
                decode_tokens_per_device=32,
                ignore_compute=True,
                ignore_latency=True,
                scale_out_bandwidth_bytes_per_s=bw,
            ),
        )
        full = predict_inference(
            m,
            cluster,
            plan,
            InferenceWorkload(
                phase="decode",
                decode_tokens_per_device=32,
                dtype="fp8",
                scale_out_bandwidth_bytes_per_s=bw,
            ),
        )
        assert limit.tpot_s is not None and full.tpot_s is not None
        speeds.append(1.0 / limit.tpot_s)
        rows.append(
            [
                label,
                f"{bw / 1e9:,.0f}",
                _cell(limit.ep_comm_s_per_layer_step, ",.2f", 1e6),
                f"{limit.tpot_s * 1e3:,.2f}",
                f"{1.0 / limit.tpot_s:,.0f}",
                f"{1.0 / full.tpot_s:,.0f}",
            ]
        )
    return rows, speeds


def _deployments(m: ModelSpec) -> list[tuple[str, ClusterSpec, ParallelPlan, InferenceWorkload]]:
    """Deployments written as vLLM/SGLang users write them (tp, dp, ep); no batch is given, so
    each runs at the largest batch within TPOT 50 ms (perf/serve/operating.py)."""
    if not m.is_moe:
        h200 = resolve_cluster("h200-sxm-141gbx8")
        return [
            ("H200 x 8, tp 8", h200, ParallelPlan(tp=8), SERVE_WORKLOAD),
            ("H200 x 8, tp 1, dp 8", h200, ParallelPlan(tp=1, dp=8), SERVE_WORKLOAD),
        ]
    mtp = SERVE_WORKLOAD.model_copy(update={"mtp_acceptance": 0.85})
    h800 = resolve_cluster("h800-sxm5-80gbx144")
    ep144 = ParallelPlan(tp=1, dp=144, ep=144, optimizations=["shared-expert-local"])
    return [
        ("H800 x 144, tp 1 dp 144 ep 144", h800, ep144, SERVE_WORKLOAD),
        ("H800 x 144, tp 1 dp 144 ep 144, MTP 85%", h800, ep144, mtp),
        (
            "GB200 NVL72, tp 4 dp 18 ep 72",
            resolve_cluster("gb200x72"),
            ParallelPlan(tp=4, dp=18, ep=72),
            SERVE_WORKLOAD,
        ),
        (
            "H200 x 16, tp 8 dp 2 ep 16",
            resolve_cluster("h200-sxm-141gbx16"),
            ParallelPlan(tp=8, dp=2, ep=16),
            SERVE_WORKLOAD,
        ),
    ]


def _throughput_table(m: ModelSpec) -> Table:
    rows = []
    for label, cluster, plan, w in _deployments(m):
        try:
            r = predict_inference(m, cluster, plan, w)
        except ScalelabError as exc:
            rows.append([label, f"cannot run: {exc}", *[""] * 8])
            continue
        node = r.devices_per_node
        rows.append(
            [
                label,
                _cell(r.tpot_s, ",.1f", 1e3),
                _cell(r.tokens_per_s_per_request, ",.0f"),
                _cell(r.output_tokens_per_s_per_device, ",.0f"),
                f"{_cell(r.output_tokens_per_s_per_node, ',.0f')} ({node})",
                _cell(r.input_tokens_per_s_per_device, ",.0f"),
                f"{r.concurrency_per_replica:,.0f}",
                _cell(r.usd_per_million_output_tokens, ",.3f"),
                _cell(r.joules_per_token, ",.3f"),
            ]
        )
    return Table(
        f"Collocated serving, prompt {SERVE_WORKLOAD.prompt_tokens} / output "
        f"{SERVE_WORKLOAD.output_tokens} tokens, FP8 weights, largest batch within TPOT "
        f"{SERVE_WORKLOAD.tpot_target_s * 1e3:g} ms",
        [
            "deployment",
            "TPOT ms",
            "tok/s per request",
            "out tok/s per GPU",
            "per node (GPUs)",
            "in tok/s per GPU",
            "seqs/replica",
            "$/M out tok",
            "J/out tok",
        ],
        rows,
        note="per GPU is the comparable figure: a node is 8 GPUs on HGX systems but 72 in a "
        "GB200 NVL72 rack; catalog rental prices; throughput time-slices prefill and decode "
        "in the prompt:output ratio",
    )


def _attention_variants(m: ModelSpec) -> list[tuple[str, ModelSpec]]:
    out = [
        (
            f"{m.name} ({'MLA' if m.uses_mla else 'GQA' if m.kv_heads < m.num_attention_heads else 'MHA'})",
            m,
        )
    ]
    if m.uses_mla:
        base = m.model_dump(
            exclude={
                "kv_lora_rank",
                "q_lora_rank",
                "qk_nope_head_dim",
                "qk_rope_head_dim",
                "v_head_dim",
                "head_dim",
                "num_key_value_heads",
            }
        )
        d = m.qk_nope_head_dim or 128
        out.append(
            (
                f"same model with GQA-8 (head dim {d})",
                ModelSpec(**base, head_dim=d, num_key_value_heads=8),
            )
        )
        out.append((f"same model with MHA (head dim {d})", ModelSpec(**base, head_dim=d)))
    peer = catalog.load_model("llama-3.1-405b")
    if peer.name != m.name:
        out.append((f"{peer.name} (GQA-8)", peer))
    return out


def _kv_table(m: ModelSpec, context: int = 4096) -> Table:
    """Sequences of `context` tokens that fit next to the same free memory (DeepSeek-V3's EP320 decode
    device on H800, FP8 weights), KV cache in bf16."""
    cluster = resolve_cluster("h800-sxm5-80gbx320")
    plan = (
        ParallelPlan(tp=4, ep=320, one_expert_per_device=True) if m.is_moe else ParallelPlan(tp=8)
    )
    free = HBM_USABLE_FRAC * cluster.accelerator.hbm_bytes - weight_bytes_per_device(
        m, make_layout(m, cluster, plan), "fp8", False
    )
    base = None
    rows = []
    for label, v in _attention_variants(m):
        per_token = kv_elems_per_token_layer(v) * 2.0 * v.num_layers
        seqs = max(0.0, free) / (per_token * context)
        base = base or seqs
        rows.append([label, f"{per_token / 1e3:,.1f}", f"{seqs:,.1f}", f"{seqs / base:.3f}x"])
    return Table(
        f"MLA vs GQA: KV cache and batch ({free / 2**30:,.1f} GiB free per device, {context}-token context)",
        ["attention", "KV KB/token (bf16)", "sequences in that memory", "vs model"],
        rows,
        note="whole-model KV per token; TP splits GQA heads over ranks, but MLA's latent is kept whole on "
        "every TP rank (hence attention DP in DeepSeek-V3's decode)",
    )


def _pareto_figure(m: ModelSpec) -> bytes:
    curves = {}
    for name in PARETO_CLUSTERS if m.is_moe else ("h200-sxm-141gbx8", "h100-sxm5-80gbx8"):
        try:
            plan = plan_serve(
                m, resolve_cluster(name), SERVE_WORKLOAD.model_copy(update={"tpot_target_s": None})
            )
        except ScalelabError:
            continue
        curves[name] = (
            [o.tpot_s * 1e3 for o in plan.pareto],
            [o.output_tokens_per_s_per_device for o in plan.pareto],
        )
    return pareto_plot(curves, f"{m.name}: TPOT vs throughput per GPU (TTFT <= 2 s)")


def build(ctx: ReportContext) -> Section:
    """The serving chapter of `scalelab report`."""
    m = ctx.model
    tables, figures, data = [], [], {}
    summary = f"{m.name} served collocated and disaggregated; every number below comes from the serving model."
    if m.is_moe:
        rows, speeds = _ep_limit_rows(m)
        tables.append(
            Table(
                "Decode speed limit set by EP communication alone (32 tokens per device, two micro-batches)",
                [
                    "interconnect",
                    "GB/s per device",
                    "EP us per layer step",
                    "TPOT ms",
                    "tok/s limit",
                    "tok/s with compute (FP8)",
                ],
                rows,
                note="Zhao et al. ISCA'25 Sec 2.3.2 estimate ~67 tok/s (IB) and ~1,200 tok/s (NVL72)",
            )
        )
        figures.append(
            Figure(
                "Decode tokens/s per request allowed by EP communication, by interconnect",
                bar_chart(
                    [r[0].split(",")[0] for r in rows],
                    speeds,
                    "tokens/s per request",
                    "EP-bound decode speed",
                ),
            )
        )
        data["ep_limit_tokens_per_s"] = {r[0]: s for r, s in zip(rows, speeds, strict=True)}
        summary = (
            f"EP dispatch/combine alone caps decode at {speeds[0]:,.0f} tokens/s per request over 400G "
            f"InfiniBand and {speeds[-1]:,.0f} on GB200 NVL72 (paper: ~67 and ~1,200). " + summary
        )
    throughput = _throughput_table(m)
    tables += [throughput, _kv_table(m)]
    figures.append(Figure("Latency-throughput Pareto frontier from plan-serve", _pareto_figure(m)))
    return Section(
        title="Serving: decode speed, throughput, cost per token, KV cache",
        summary=summary,
        tables=tables,
        figures=figures,
        data=data,
        key_numbers=_key_numbers(data, throughput),
    )


def _key_numbers(data: dict[str, dict[str, float]], throughput: Table) -> list[KeyNumber]:
    """MoE: the decode speed EP communication allows; dense: the first deployment's TPOT."""
    limits = list(data.get("ep_limit_tokens_per_s", {}).values())
    if limits:
        return [KeyNumber("Decode speed limit, 400G InfiniBand", f"{limits[0]:,.0f} tok/s per user",
                          f"set by EP all-to-all; {limits[-1]:,.0f} on GB200 NVL72")]  # fmt: skip
    first = throughput.rows[0] if throughput.rows else []
    if len(first) > 2 and first[1] and first[1][0].isdigit():
        return [
            KeyNumber("Decode time per output token", f"{first[1]} ms", f"{first[0]}, FP8 weights")
        ]
    return []
