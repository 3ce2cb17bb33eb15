"""Report section "Compression": a teacher, its distilled student and their int8/int4 forms trained
and measured on this CPU (quick settings), the full benchmark's recorded table when the checkout
has it, the seed claim "-90% size, 3x speed", and what the same dtypes do for the report's model
at scale (the analytic serving model: devices, TPOT, $/M tokens)."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from scalelab.core.errors import ScalelabError
from scalelab.core.scenario import resolve_cluster
from scalelab.core.specs import InferenceWorkload, ModelSpec
from scalelab.perf.serve.predict import predict_inference
from scalelab.plan.serve import plan_serve
from scalelab.report.context import ReportContext
from scalelab.report.plots import bar_chart
from scalelab.report.section import Figure, Section, Table

TITLE = "Compression"
RECORDED = Path(__file__).resolve().parents[4] / "benchmarks" / "results" / "compress_cpu.json"
SERVE_DTYPES = ("bf16", "fp8", "int8", "int4")
SERVE_DEVICE = "h200-sxm-141gb"
SERVE_SIZES = (1, 2, 4, 8, 16, 32, 64, 128)
SERVE_WORKLOAD = InferenceWorkload(
    prompt_tokens=2048, output_tokens=512, ttft_target_s=2.0, tpot_target_s=0.05
)
MB = 1e6


def bench_table(bench: dict[str, Any], title: str = "Measured variants", note: str = "") -> Table:
    """One row per variant of `BenchResult.to_dict()`; ratios against the first row."""
    rows = []
    for r in bench["rows"]:
        b1, b32 = (next(lat for lat in r["latency"] if lat["batch_size"] == b) for b in (1, 32))
        rows.append([
            r["label"], f"{r['size_bytes'] / MB:.2f}", f"{100 * r['size_ratio']:.1f}", f"{r['num_params']:,}",
            f"{b1['p50_s'] * 1e3:.2f} / {b1['p95_s'] * 1e3:.2f}", f"{b32['p50_s'] * 1e3:.1f} / {b32['p95_s'] * 1e3:.1f}",
            f"{32 / b32['p50_s']:,.0f}", f"{r['speedup_b1_ratio']:.2f}x", f"{r['speedup_b32_ratio']:.2f}x",
            f"{100 * r['accuracy_frac']:.1f}",
        ])  # fmt: skip
    cols = ["variant", "size MB", "size % of first", "params", "b1 p50/p95 ms", "b32 p50/p95 ms",
            "texts/s at b32", "speed-up b1", "speed-up b32", "accuracy %"]  # fmt: skip
    m = bench.get("machine", {})
    base = (f"{bench['threads']} thread(s), {bench['repeats']} timed calls per variant and batch, "
            f"held-out {bench['dataset']} texts; {m.get('cpu', '?')}, VNNI {m.get('vnni')}, "
            f"torch {m.get('torch', '?')}, onnxruntime {m.get('onnxruntime', '-')}. Size: the weights file "
            "(model.safetensors of a checkpoint, or the variant's one file).")  # fmt: skip
    return Table(title, cols, rows, (note + " " + base).strip())


def distill_table(d: dict[str, Any]) -> Table:
    rows = [[str(s), f"{100 * a:.1f}", f"{100 * k:.1f}", f"{100 * (k - a):+.1f}"]
            for s, a, k in zip(d["seeds"], d["alone_accuracy_frac"], d["distilled_accuracy_frac"], strict=True)]  # fmt: skip
    rows.append(["mean", f"{100 * d['alone_mean_frac']:.1f}", f"{100 * d['distilled_mean_frac']:.1f}",
                 f"{100 * (d['distilled_mean_frac'] - d['alone_mean_frac']):+.1f}"])  # fmt: skip
    c, kd = d["student_config"], d["settings"].get("distill", {})
    note = (f"student {c['n_layers']} layers x {c['d_model']}; teacher accuracy {100 * d['teacher_accuracy_frac']:.1f}%; "
            f"T={kd.get('temperature')}, alpha={kd.get('alpha')}, hidden-state weight {kd.get('hidden_weight')}. "
            + ("Distillation beats training alone on the mean over seeds." if d["distillation_helps"]
               else "Distillation does NOT beat the same student trained alone on the mean over seeds."))  # fmt: skip
    return Table("Distillation vs the same student alone (held-out accuracy %)",
                 ["seed", "alone", "distilled", "difference (points)"], rows, note)  # fmt: skip


def _serve_row(m: ModelSpec, dtype: str) -> list[str]:
    w = SERVE_WORKLOAD.model_copy(update={"dtype": dtype})
    for n in SERVE_SIZES:
        cluster = resolve_cluster(f"{SERVE_DEVICE}x{n}")
        try:
            best = plan_serve(m, cluster, w, top=1, disaggregation=False).best
        except ScalelabError:
            continue
        one = predict_inference(
            m, cluster, best.decode_plan, w.model_copy(update={"batch_size": 1, "phase": "decode"})
        )
        tpot1 = "-" if one.tpot_s is None else f"{one.tpot_s * 1e3:.1f}"
        return [dtype, str(n), best.label, tpot1, f"{best.tpot_s * 1e3:.1f}",
                f"{best.output_tokens_per_s_per_node:,.0f}", f"{best.usd_per_million_output_tokens:.3f}"]  # fmt: skip
    return [dtype, f"> {SERVE_SIZES[-1]}", "does not fit / meet targets", "-", "-", "-", "-"]


def serving_table(m: ModelSpec) -> Table:
    rows = [_serve_row(m, d) for d in SERVE_DTYPES]
    note = ("Fewest H200s that serve the model within TTFT 2 s / TPOT 50 ms (prompt 2048, output 512), "
            "cheapest plan there (scalelab.plan.serve). int8 is W8A8 (int8 tensor cores, same peak as fp8 "
            "on H200); int4 is weight-only (bf16 math): it halves the weight bytes every decode step "
            "reads, which is what a memory-bound decode pays for, but adds no FLOP/s.")  # fmt: skip
    return Table(f"From small to large: {m.name} served at each weight dtype", ["weights", "H200s", "plan",
                 "TPOT at batch 1 ms", "TPOT at best batch ms", "out tok/s/node", "$/M out tok"], rows, note)  # fmt: skip


def _recorded() -> dict[str, Any] | None:
    try:
        return json.loads(RECORDED.read_text())
    except (OSError, ValueError):
        return None


def _live(quick: bool) -> tuple[dict[str, Any], float]:
    from scalelab.compress.chain import FULL, QUICK, run_chain

    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="scalelab-compress-") as tmp:
        result = run_chain(QUICK if quick else FULL, Path(tmp))
    return result.to_dict(), time.perf_counter() - start


def build(ctx: ReportContext) -> Section:
    """Quick chain live (about 30-60 s on 2 shared cores), recorded full run, claim, serving."""
    serve = serving_table(ctx.model)
    try:
        import onnxruntime  # noqa: F401
        import torch  # noqa: F401
    except ImportError:
        return Section(TITLE, "Install scalelab's 'lab' and 'compress' extras to measure compression here.",
                       [serve])  # fmt: skip
    from scalelab.compress.claim import claim_evidence

    live, seconds = _live(ctx.quick)
    tables = [bench_table(live["bench"], "Measured now on this CPU (quick settings)" if ctx.quick else
                          "Measured now on this CPU", f"Trained and measured in {seconds:.0f} s."),
              distill_table(live["distill"])]  # fmt: skip
    recorded = _recorded()
    if recorded is not None:
        tables.append(bench_table(recorded["bench"], f"Recorded full chain ({recorded['date']})",
                                  "benchmarks/bench_compress.py, full settings."))  # fmt: skip
    source = "recorded full chain" if recorded is not None else "live chain"
    evidence = claim_evidence((recorded or live)["bench"], source)
    tables.append(serve)
    rows = live["bench"]["rows"]
    fig = Figure("Speed-up over the teacher fp32 at batch 32, live quick chain (1 = teacher)",
                 bar_chart([r["label"] for r in rows], [r["speedup_b32_ratio"] for r in rows], "speed-up", "batch 32"))  # fmt: skip
    claim = evidence.to_dict() if evidence else None
    return Section(TITLE, _summary(evidence, live), tables, [fig],
                   data={"live": live, "recorded": recorded, "claim_j": claim, "serving": serve.rows})  # fmt: skip


def _summary(evidence: Any, live: dict[str, Any]) -> str:
    d = live["distill"]
    parts = [
        "A transformer-encoder classifier on BBC News (the teacher) is distilled into a smaller student "
        "and quantized to int8 (PyTorch dynamic, ONNX Runtime dynamic and static QDQ) and int4 "
        "(ONNX Runtime MatMulNBits, weight-only); every form is timed in the same run.",
        f"Distilled student {100 * d['distilled_mean_frac']:.1f}% vs {100 * d['alone_mean_frac']:.1f}% alone.",
    ]
    if evidence is not None:
        parts.append(
            f"Seed claim 'distillation + INT8: -90% size, 3x speed' ({evidence.source}, {evidence.variant}): "
            f"size -{100 * evidence.size_reduction_frac:.0f}%, speed {evidence.speedup_b1_ratio:.1f}x at batch 1 "
            f"and {evidence.speedup_b32_ratio:.1f}x at batch 32: {evidence.verdict}. The ratios come mostly "
            "from the student's smaller shape, which the claim leaves open."
        )
    return " ".join(parts)
