"""Report section: training. Step-time breakdown and memory per GPU of the reference plan, MFU
against the published figures, the 2.79M GPU-hour / $5.6M DeepSeek-V3 bill reconstructed, and how
exposed communication grows with cluster size with and without DualPipe-style overlap."""

from __future__ import annotations

from dataclasses import dataclass

from scalelab.core.errors import ScalelabError
from scalelab.core.scenario import Scenario, resolve_cluster
from scalelab.core.specs import ModelSpec, ParallelPlan, TrainWorkload
from scalelab.perf.train.predict import TrainPrediction, predict_train
from scalelab.plan.labels import plan_label
from scalelab.report.context import ReportContext
from scalelab.report.fmt import days, device_name, gib, pct
from scalelab.report.plans import FULL_SPACE, register_plan, shared_search
from scalelab.report.plots import bar_chart, stacked_bars
from scalelab.report.plots_perf import line_chart
from scalelab.report.section import Figure, KeyNumber, Section, Table

# DeepSeek-V3 TR Table 1 and Sec 3; Zhao et al. ISCA'25 Table 4 (the validation case's numbers).
PUBLISHED = {
    "step_time_s": 19.926,
    "mfu_causal": 0.3894,
    "mfu_noncausal": 0.4373,
    "pipeline_bubble_s": 2.06,
    "optimizer_s": 0.29,
    "gpu_hours_per_trillion_tokens": 180e3,
}
PRETRAIN_GPU_HOURS, CONTEXT_EXT_GPU_HOURS, POST_TRAIN_GPU_HOURS = 2664e3, 119e3, 5e3  # TR Table 1
PRICE_USD_PER_GPU_HOUR = 2.0  # TR Table 1
DSV3_TOKENS = 14.8e12
COMM_KEYS = ("tp_comm", "cp_comm", "ep_comm", "pp_comm", "dp_comm")
SWEEP_DEVICES = (512, 1024, 2048, 4096, 8192)


@dataclass(frozen=True)
class Reference:
    scenario: Scenario
    label: str
    published: bool


def deepseek_v3_scenario(
    model: ModelSpec, num_devices: int = 2048, schedule: str = "dualpipe"
) -> Scenario:
    """DeepSeek-V3's own plan (PP16, EP64, ZeRO-1, DualPipe, FP8, 20 communication SMs) on H800."""
    cluster = resolve_cluster(
        {
            "accelerator": "h800-sxm5-80gb",
            "num_devices": num_devices,
            "scale_up": {"kind": "nvlink4-h800"},
            "scale_out": {"kind": "ib-ndr", "topology": "multi-plane-fat-tree"},
        }
    )
    plan = ParallelPlan(
        dp=num_devices // 16,
        pp=16,
        ep=min(64, num_devices // 16),
        tp=1,
        zero_stage=1,
        schedule=schedule,  # type: ignore[arg-type]
        precision="fp8",
        recompute="selective",
        comm_sms=20 if schedule == "dualpipe" else 0,
    )
    wl = TrainWorkload(
        global_batch_size=15360,
        seq_len=4096,
        train_tokens=DSV3_TOKENS,
        price_usd_per_device_hour=PRICE_USD_PER_GPU_HOUR,
    )
    return Scenario(model, cluster, plan, wl)


GENERIC_CLUSTER = "h100x1024"
GENERIC_WORKLOAD = TrainWorkload(global_batch_size=1024, seq_len=4096, train_tokens=15e12)


def reference(ctx: ReportContext) -> Reference:
    """The published DeepSeek-V3 setup for DeepSeek-V3; otherwise the planner's fastest plan on
    1024 H100 (the same search the planning section shows, run once: report/plans.py)."""
    m = ctx.model
    if m.is_moe and m.num_routed_experts % 64 == 0 and m.num_layers >= 16:
        sc = deepseek_v3_scenario(m)
        return Reference(
            sc, f"{plan_label(sc.plan)} on 2048 H800, DualPipe, FP8", m.arch == "deepseek-v3"
        )
    result = shared_search(ctx, GENERIC_CLUSTER, GENERIC_WORKLOAD)
    if not result.plans:
        from scalelab.plan.search import best_training_plan  # raises InfeasiblePlan, saying why

        best_training_plan(m, resolve_cluster(GENERIC_CLUSTER), GENERIC_WORKLOAD)
    best = result.plans[0]
    cluster = resolve_cluster(GENERIC_CLUSTER).model_copy(update={"num_devices": best.num_devices})
    label = f"the planner's fastest plan, {plan_label(best.prediction.plan)} on {best.num_devices:,} H100"
    return Reference(Scenario(m, cluster, best.prediction.plan, GENERIC_WORKLOAD), label, False)


def _register(ctx: ReportContext, ref: Reference, pred: TrainPrediction) -> None:
    n = ref.scenario.cluster.num_devices
    if ref.published:
        key, question, space = (
            "published",
            "DeepSeek-V3's published plan",
            "as published (TR Sec 3)",
        )
    else:
        key, question = "fastest", f"Fastest plan on {GENERIC_CLUSTER} and halves"
        space = FULL_SPACE
    register_plan(
        ctx, key, question, ref.scenario.plan, device_name(ref.scenario.cluster.accelerator.name), n, space,
        "training", pred.run_time_s, pred.cost_usd,
    )  # fmt: skip


def _key_number(ref: Reference, pred: TrainPrediction) -> KeyNumber:
    n = ref.scenario.cluster.num_devices
    acc = device_name(ref.scenario.cluster.accelerator.name)
    which = "DeepSeek's published plan" if ref.published else "fastest plan"
    value = "-" if pred.run_time_s is None else days(pred.run_time_s)
    cost = f", ${pred.cost_usd / 1e6:,.2f}M" if pred.cost_usd else ""
    hours = f"{(pred.device_hours or 0) / 1e6:,.2f}M GPU-hours{cost}"
    if ref.published:
        hours += f" (published {PRETRAIN_GPU_HOURS / 1e6:,.3f}M)"
    return KeyNumber(
        f"Pre-training on {n:,} {acc}", value, f"{which} {plan_label(ref.scenario.plan)}: {hours}"
    )


def _headline(p: TrainPrediction, published: bool, num_devices: int) -> Table:
    hours_per_t = num_devices / p.tokens_per_s * 1e12 / 3600
    rows = [
        ["step time (s)", f"{p.step_time_s:,.2f}"],
        ["MFU causal (bf16 peak)", pct(p.mfu_causal)],
        ["MFU non-causal", pct(p.mfu_noncausal)],
        ["pipeline bubble (s)", f"{p.pipeline_bubble_s:,.2f}"],
        ["optimizer + DP sync (s)", f"{p.optimizer_s:,.2f}"],
        ["GPU hours per trillion tokens", f"{hours_per_t:,.0f}"],
    ]
    if published:
        keys = (
            "step_time_s",
            "mfu_causal",
            "mfu_noncausal",
            "pipeline_bubble_s",
            "optimizer_s",
            "gpu_hours_per_trillion_tokens",
        )
        for row, key in zip(rows, keys, strict=True):
            value = PUBLISHED[key]
            row.append(
                pct(value) if "mfu" in key else f"{value:,.2f}" if value < 1e3 else f"{value:,.0f}"
            )
        return Table(
            "Training step: predicted vs published",
            ["metric", "predicted", "published"],
            rows,
            note="published: DeepSeek-V3 TR Table 1, Zhao et al. ISCA'25 Table 4; MFU against the "
            "BF16 dense peak although training ran in FP8",
        )
    return Table("Training step (predicted)", ["metric", "predicted"], rows)


def _bill(p: TrainPrediction) -> tuple[Table, float]:
    pre = p.device_hours or 0.0
    total = pre + CONTEXT_EXT_GPU_HOURS + POST_TRAIN_GPU_HOURS
    published_total = PRETRAIN_GPU_HOURS + CONTEXT_EXT_GPU_HOURS + POST_TRAIN_GPU_HOURS
    rows = [
        ["pre-training (14.8T tokens)", f"{pre / 1e3:,.0f}K", f"{PRETRAIN_GPU_HOURS / 1e3:,.0f}K"],
        [
            "context extension (published, not modeled)",
            f"{CONTEXT_EXT_GPU_HOURS / 1e3:,.0f}K",
            f"{CONTEXT_EXT_GPU_HOURS / 1e3:,.0f}K",
        ],
        [
            "post-training (published, not modeled)",
            f"{POST_TRAIN_GPU_HOURS / 1e3:,.0f}K",
            f"{POST_TRAIN_GPU_HOURS / 1e3:,.0f}K",
        ],
        ["total GPU hours", f"{total / 1e6:,.2f}M", f"{published_total / 1e6:,.3f}M"],
        [
            "cost at $2 per GPU hour",
            f"${total * PRICE_USD_PER_GPU_HOUR / 1e6:,.2f}M",
            f"${published_total * PRICE_USD_PER_GPU_HOUR / 1e6:,.3f}M",
        ],
    ]
    return Table(
        "DeepSeek-V3 bill reconstructed", ["phase", "predicted", "published (TR Table 1)"], rows
    ), total


def _memory_variants(ref: Reference) -> tuple[Table, bytes]:
    base = ref.scenario
    variants = {
        "as planned": base.plan,
        "ZeRO-0": base.plan.model_copy(update={"zero_stage": 0}),
        "ZeRO-3": base.plan.model_copy(update={"zero_stage": 3}),
        "no recompute": base.plan.model_copy(update={"recompute": "none"}),
        "full recompute": base.plan.model_copy(update={"recompute": "full"}),
    }
    preds = {
        k: predict_train(Scenario(base.model, base.cluster, v, base.workload))
        for k, v in variants.items()
    }
    parts = list(next(iter(preds.values())).memory_breakdown_bytes)
    stacks = {
        part.replace("_", " "): [p.memory_breakdown_bytes[part] / 2**30 for p in preds.values()]
        for part in parts
    }
    rows = [
        [
            k,
            gib(p.memory_per_device_bytes),
            p.memory_device,
            "yes" if p.fits_in_memory else f"no (+{gib(p.memory_overflow_bytes)})",
            f"{p.step_time_s:,.2f}",
        ]
        for k, p in preds.items()
    ]
    table = Table(
        f"Memory per GPU ({gib(base.cluster.accelerator.hbm_bytes)} HBM)",
        ["variant", "fullest device", "which", "fits", "step (s)"],
        rows,
    )
    return table, stacked_bars(list(preds), stacks, "GiB per GPU", "Memory per GPU by plan variant")


def _comm_sweep(model: ModelSpec) -> tuple[Table, bytes, dict[str, list[float]]]:
    """Exposed communication share vs cluster size at a fixed global batch (15360 x 4096 tokens)."""
    series: dict[str, list[float]] = {
        "DualPipe + 20 comm SMs (overlap)": [],
        "1F1B, no overlap": [],
    }
    rows = []
    for n in SWEEP_DEVICES:
        row = [f"{n:,}"]
        for name, schedule in zip(series, ("dualpipe", "1f1b"), strict=True):
            try:
                p = predict_train(deepseek_v3_scenario(model, n, schedule))
                share = sum(p.breakdown_s[k] for k in COMM_KEYS) / p.step_time_s
            except ScalelabError:
                share = float("nan")
            series[name].append(100 * share)
            row.append("-" if share != share else pct(share))
        rows.append(row)
    table = Table(
        "Exposed communication share of the step vs cluster size (PP16, EP64, batch 15360 x 4K)",
        ["GPUs", *series],
        rows,
        note="more GPUs at a fixed batch means fewer micro-batches per pipeline and the same EP "
        "traffic per token: without overlap inter-node all-to-all costs 30%+; DualPipe pairing "
        "hides most of it; EP = min(64, dp) spans 4 nodes at 512 GPUs and 8 from 1024; '-': DualPipe lacks "
        "the 2 x pp micro-batches it needs",
    )
    fig = line_chart(
        [float(n) for n in SWEEP_DEVICES],
        series,
        "GPUs (H800)",
        "% of step time",
        "Exposed communication vs cluster size",
    )
    return table, fig, {"num_devices": [float(n) for n in SWEEP_DEVICES], **series}


def build(ctx: ReportContext) -> Section:
    """Training section for ctx.model (DeepSeek-V3: its published plan and bill)."""
    ref = reference(ctx)
    pred = predict_train(ref.scenario)
    _register(ctx, ref, pred)
    breakdown = {k: v for k, v in pred.breakdown_s.items() if v > 0}
    fig_bd = bar_chart(
        list(breakdown),
        list(breakdown.values()),
        "seconds per step",
        f"Step-time breakdown: {ref.label}",
    )
    mem_table, fig_mem = _memory_variants(ref)
    tables = [
        _headline(pred, ref.published, ref.scenario.cluster.num_devices),
        Table(
            "Step-time breakdown",
            ["component", "s", "share"],
            [[k, f"{v:,.3f}", pct(v / pred.step_time_s)] for k, v in pred.breakdown_s.items()],
        ),
        mem_table,
    ]
    figures = [
        Figure("Step-time breakdown (s)", fig_bd),
        Figure("Memory per GPU (GiB), stacked", fig_mem),
    ]
    summary = (
        f"{ctx.model.name} with {ref.label}: {pred.step_time_s:,.2f} s per step, MFU "
        f"{pct(pred.mfu_causal)} causal / {pct(pred.mfu_noncausal)} non-causal (bf16 peak)."
    )
    data: dict[str, object] = {
        "step_time_s": pred.step_time_s,
        "mfu_causal": pred.mfu_causal,
        "breakdown_s": pred.breakdown_s,
        "memory_per_device_bytes": pred.memory_per_device_bytes,
        "run_time_s": pred.run_time_s,
        "cost_usd": pred.cost_usd,
        "plan": plan_label(ref.scenario.plan),
        "num_devices": ref.scenario.cluster.num_devices,
    }
    if ref.scenario.model.is_moe and ref.scenario.workload.train_tokens == DSV3_TOKENS:
        bill, total = _bill(pred)
        sweep, fig_sweep, sweep_data = _comm_sweep(ref.scenario.model)
        tables += [bill, sweep]
        figures.append(Figure("Exposed communication share vs number of GPUs", fig_sweep))
        summary += (
            f" Pre-training 14.8T tokens takes {(pred.device_hours or 0) / 1e6:,.2f}M GPU hours; with "
            f"the published context-extension and post-training hours the bill is {total / 1e6:,.2f}M "
            f"GPU hours, ${total * PRICE_USD_PER_GPU_HOUR / 1e6:,.2f}M at $2/h (published 2.788M, $5.576M)."
        )
        data["total_gpu_hours"] = total
        data["exposed_comm_pct_by_cluster_size"] = sweep_data
    return Section(
        title="Training: step time, MFU, memory and cost",
        summary=summary,
        tables=tables,
        figures=figures,
        data=data,
        key_numbers=[_key_number(ref, pred)],
    )
