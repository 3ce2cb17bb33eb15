"""Evidence for the seed's data, algorithm and systems claims (a, b, c, j, l): one function per
claim, each returning what scalelab measured or modeled, the parts the verdict rule compares, and
the command that reproduces it. Numbers the report already computed are reused (Source.section);
run alone (`scalelab claims`) each function computes a quick version."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from scalelab.core.catalog import load_model
from scalelab.core.scenario import Scenario
from scalelab.core.specs import ModelSpec, ParallelPlan
from scalelab.perf.train.predict import predict_train
from scalelab.report.claims_rule import Part

SUBJECT = "deepseek-v3"  # the seed article is about DeepSeek-V3


@dataclass(frozen=True)
class Evidence:
    """What scalelab has for one claim; `missing` names the capability when it has nothing."""

    measured: str
    parts: tuple[Part, ...] = ()
    command: str = "-"
    basis: str = ""  # measured here | modeled | datasheet | assumption
    missing: str = ""


@dataclass
class Source:
    """Where evidence comes from: the report's section results (when it ran for DeepSeek-V3, or for
    model-independent sections), else quick computations; `cache` shares them between claims."""

    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    results_model_id: str = ""
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> ModelSpec:
        if "model" not in self.cache:
            self.cache["model"] = load_model(SUBJECT)
        model: ModelSpec = self.cache["model"]
        return model

    def section(self, name: str, model_specific: bool = True) -> dict[str, Any]:
        """A section's data if the report built it (for the claims' subject when it depends on it)."""
        if model_specific and self.results_model_id != SUBJECT:
            return {}
        return self.results.get(name, {})


TB_SCALE = (1e12, 1e15)  # "TB-scale": at least a terabyte, below a petabyte


def data_requirement(_src: Source) -> Evidence:
    """Compute-optimal text for 100B parameters (scalelab.data.need: arithmetic, instant)."""
    from scalelab.data.need import tb_scale_claim

    need = tb_scale_claim(100e9)
    text_bytes, unique = float(need["bytes"]), float(need["unique_bytes_at_4_epochs"])
    return Evidence(
        f"100B parameters, compute-optimal: {float(need['tokens']) / 1e12:,.1f}T tokens = "
        f"{text_bytes / 1e12:,.0f} TB of text ({unique / 1e12:,.1f} TB unique if repeated 4 epochs)",
        (
            Part("text for 100B parameters (bytes), TB-scale: at least 1 TB", TB_SCALE[0], "at least", text_bytes),
            Part("text for 100B parameters (bytes), TB-scale: below 1 PB", TB_SCALE[1], "at most", text_bytes),
        ),
        "scalelab data need --params 100B",
        "modeled (Hoffmann et al. 2022: 20 tokens per parameter; ~4 bytes per token)",
    )  # fmt: skip


def _gradient_flows(src: Source) -> list[dict[str, Any]] | None:
    flows = src.section("training_dynamics", model_specific=False).get("gradient_flow")
    if flows:
        return list(flows)
    try:
        from scalelab.lab.experiments.gradient_flow import GradientFlowConfig, run_gradient_flow
    except ImportError:
        return None
    # The report's quick configuration (sections/training_dynamics.py), two of its six stacks.
    base = GradientFlowConfig(depth=50, steps=10, every=5)
    stacks = ({}, {"residual": True, "norm": "pre"})
    return [run_gradient_flow(base.model_copy(update=s)).to_dict() for s in stacks]


def gradient_at_depth(src: Source) -> Evidence:
    flows = _gradient_flows(src)
    if not flows:
        return Evidence("not measured", missing="the lab extra (torch) to measure gradient flow")
    plain = next(f for f in flows if not f["config"]["residual"])
    cured = next(
        (f for f in flows if f["config"]["residual"] and f["config"]["norm"] != "none"), None
    )
    text = f"first/last block gradient-norm ratio, 50-block MLP: {plain['label']} {plain['first_to_last_ratio']:.2g}"
    if cured is not None:
        text += f"; {cured['label']} {cured['first_to_last_ratio']:.2g} (no vanishing)"
    return Evidence(
        text,
        (Part("gradient norm, layer 1 / layer 50, plain stack", 1e-2, "about", plain["first_to_last_ratio"]),),
        "scalelab diagnose gradient-flow --depth 50 --compare",
        "measured here (CPU, fixed seed)",
    )  # fmt: skip


COMM_KEYS = ("tp_comm", "cp_comm", "ep_comm", "pp_comm", "dp_comm")
THOUSANDS = 2048  # DeepSeek-V3's cluster


def _comm_share(src: Source, schedule: str) -> float:
    from scalelab.report.sections.training import deepseek_v3_scenario

    p = predict_train(deepseek_v3_scenario(src.model, THOUSANDS, schedule))
    return 100 * sum(p.breakdown_s[k] for k in COMM_KEYS) / p.step_time_s


def communication_share(src: Source) -> Evidence:
    sweep = src.section("training").get("exposed_comm_pct_by_cluster_size")
    if sweep and THOUSANDS in [int(n) for n in sweep["num_devices"]]:
        i = [int(n) for n in sweep["num_devices"]].index(THOUSANDS)
        overlap, plain = sweep["DualPipe + 20 comm SMs (overlap)"][i], sweep["1F1B, no overlap"][i]
    else:
        overlap, plain = _comm_share(src, "dualpipe"), _comm_share(src, "1f1b")
    return Evidence(
        f"exposed communication, DeepSeek-V3 on {THOUSANDS:,} H800: {overlap:.1f}% of the step with "
        f"DualPipe (as trained), {plain:.1f}% with 1F1B and no overlap",
        (Part("exposed communication share as trained (%)", 30.0, "at least", overlap),),
        "scalelab predict train examples/deepseek-v3-train.toml",
        "modeled (validated: tests/golden)",
    )


COMPRESS_RESULTS = ("compress_cpu.json", "compress_cpu_quick.json")  # full run first


def _compress_claim(src: Source) -> dict[str, Any] | None:
    """The claim's measurement: the report's compression section (it ran the chain), else the
    recorded benchmark of a source checkout (benchmarks/bench_compress.py)."""
    claim = src.section("compress", model_specific=False).get("claim_j")
    if claim:
        return dict(claim)
    try:
        from scalelab.compress.claim import claim_evidence
        from scalelab.report.sections.compress import RECORDED
    except ImportError:
        return None
    for name in COMPRESS_RESULTS:
        try:
            run = json.loads((RECORDED.parent / name).read_text())
        except (OSError, ValueError):
            continue
        found = claim_evidence(
            run["bench"], f"recorded {name.split('.')[0]} ({run.get('date', '?')})"
        )
        if found is not None:
            return found.to_dict()
    return None


def distill_int8(src: Source) -> Evidence:
    claim = _compress_claim(src)
    if claim is None:
        return Evidence(
            "no measurement on this machine",
            missing="a compression measurement here (scalelab report's Compression section, or "
            "benchmarks/bench_compress.py; needs the lab and compress extras)",
        )
    size = 1.0 - claim["size_reduction_frac"]
    return Evidence(
        f"BBC News classifier, teacher fp32 -> distilled student -> {claim['variant']} "
        f"({claim['source']}): {100 * size:.1f}% of the teacher's size, "
        f"{claim['speedup_b1_ratio']:.1f}× faster at batch 1, {claim['speedup_b32_ratio']:.1f}× at "
        f"batch 32, accuracy {claim['accuracy_delta_points']:+.1f} points",
        (
            Part("size after / before (claimed 10%: -90%)", 0.10, "about", size),
            Part("speed-up at batch 1", 3.0, "about", claim["speedup_b1_ratio"], gain=True),
            Part("speed-up at batch 32", 3.0, "about", claim["speedup_b32_ratio"], gain=True),
        ),
        "python benchmarks/bench_compress.py --quick (or scalelab report: Compression section)",
        "measured here (CPU)",
    )


def _dp_only_plan(num_devices: int) -> ParallelPlan:
    return ParallelPlan(
        dp=num_devices, zero_stage=0, schedule="1f1b", precision="fp8", recompute="selective"
    )


def parallel_load(src: Source) -> Evidence:
    from scalelab.report.sections.training import deepseek_v3_scenario

    sc = deepseek_v3_scenario(src.model)
    hybrid = src.section("training").get("memory_per_device_bytes")
    if hybrid is None:
        hybrid = predict_train(sc).memory_per_device_bytes
    # DP alone: every GPU holds the whole model; 16,384 sequences so the batch splits over 2,048.
    wl = sc.workload.model_copy(update={"global_batch_size": 16384})
    dp_only = predict_train(Scenario(sc.model, sc.cluster, _dp_only_plan(2048), wl))
    ratio = hybrid / dp_only.memory_per_device_bytes
    return Evidence(
        f"memory per GPU, 2,048 H800: {hybrid / 2**30:,.1f} GiB with TP1·PP16·EP64·DP128 + ZeRO-1 vs "
        f"{dp_only.memory_per_device_bytes / 2**30:,.0f} GiB with data parallelism alone "
        f"({ratio:.2g}×); compute per GPU is the same either way",
        (Part("memory per GPU, DP + model parallel / DP alone", 1.0, "at most", ratio),),
        "scalelab predict train examples/deepseek-v3-train.toml; "
        "scalelab predict train examples/deepseek-v3-train-dp-only.toml",
        "modeled",
    )
