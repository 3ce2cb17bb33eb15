"""Train view: `scalelab plan` behind the page. The same search (plan/search.search_train) on the
same parsed inputs; every ranked plan comes with its full prediction (step breakdown, memory per
device, time/cost/energy of the run) so picking one needs no second request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scalelab.core import flags
from scalelab.core.specs import MAX_SEQ_TOKENS, ClusterSpec, ModelSpec, TrainWorkload
from scalelab.plan.explain import LABELS
from scalelab.plan.labels import plan_label, plan_options
from scalelab.plan.search import OBJECTIVES, RankedPlan, search_train
from scalelab.web.inputs import Params, on_flags, read_cluster, read_model, read_site
from scalelab.web.jobs import Progress
from scalelab.web.views.common import Csv, cluster_json, model_json

COMMAND = "web train"
MAX_TOP = 20
MAX_SCALE_DOWN = 4
FLAGS = ("global-batch", "batch-tokens", "seq", "train-tokens")
# The DeepSeek-V3 case: 2,048 H800, 15,360 sequences of 4,096 tokens, 14.8T tokens in FP8 (TR Sec 4.2)
DEFAULTS = {
    "model": "deepseek-v3",
    "cluster": "h800x2048",
    "global-batch": "15360",
    "seq": "4096",
    "train-tokens": "14.8T",
    "fp8": "1",
    "objective": "time",
    "top": "5",
    "scale-down": "0",
}


@dataclass(frozen=True)
class TrainRequest:
    model: ModelSpec
    model_id: str | None
    cluster: ClusterSpec
    workload: TrainWorkload
    objective: str
    top: int
    scale_down: int
    cli: str


def parse(p: Params) -> TrainRequest:
    """The page's fields through the CLI's parsers (`p` falls back to DEFAULTS)."""
    model, model_id = read_model(p)
    site = read_site(p)
    cluster = read_cluster(p, site=site)
    batch_tokens = p.text("batch-tokens")
    global_batch = p.text("global-batch", use_default=batch_tokens is None)
    seq = p.integer("seq", lo=1, hi=MAX_SEQ_TOKENS)
    train_tokens = p.text("train-tokens")
    fp8 = p.flag("fp8")
    with on_flags(FLAGS, "batch-tokens" if batch_tokens else "global-batch"):
        workload = flags.train_workload(global_batch, batch_tokens, seq, train_tokens, fp8)
    objective = p.choice("objective", OBJECTIVES)
    top = p.integer("top", MAX_TOP, lo=1)
    scale_down = p.integer("scale-down", MAX_SCALE_DOWN, lo=0)
    return TrainRequest(
        model, model_id, cluster, workload, objective, top, scale_down, cli_line(p.used, model_id)
    )


def cli_line(used: dict[str, Any], model_id: str | None) -> str:
    """The equivalent `scalelab plan` command (uploaded models: the file the user kept)."""
    parts = [
        "scalelab plan",
        f"--model {model_id or 'config.json'}",
        f"--cluster {used['cluster']}",
    ]
    for name in ("global-batch", "batch-tokens", "seq", "train-tokens", "objective", "top"):
        if used.get(name) is not None:
            parts.append(f"--{name} {used[name]}")
    if used.get("fp8"):
        parts.append("--fp8")
    if used.get("scale-down"):
        parts.append(f"--scale-down {used['scale-down']}")
    for name in ("price-usd-per-hour", "co2-kg-per-kwh"):
        if used.get(name) is not None:
            parts.append(f"--{name} {used[name]}")
    return " ".join(parts)


def _label(p: RankedPlan) -> str:
    """As `scalelab plan` prints it: `TP1·PP4·EP256·DP256 · DualPipe · ZeRO-1 · ... · 2,048 GPUs`."""
    plan = p.prediction.plan
    return f"{plan_label(plan)} · {plan_options(plan)} · {p.num_devices:,} GPUs"


def compute(req: TrainRequest, progress: Progress) -> dict[str, Any]:
    """Run the planner; the answer the page renders and the JSON export carries."""
    progress.step(
        f"searching plans for {req.model.name} on {req.cluster.num_devices:,} x "
        f"{req.cluster.accelerator.id}"
    )
    r = search_train(
        req.model,
        req.cluster,
        req.workload,
        req.objective,
        top=req.top,
        scale_down=req.scale_down,
    )
    progress.step("done", 1, 1)
    data = r.to_dict()  # the results of `scalelab plan --json` (plan/search_dict.py), as they are
    for key, ranked in (("plans", r.plans), ("pareto", r.pareto)):
        for entry, p in zip(data[key], ranked, strict=True):
            entry["label"] = _label(p)
    data.update(
        model=model_json(req.model, req.model_id),
        cluster=cluster_json(req.cluster),
        workload=req.workload.model_dump(),
        breakdown_labels=LABELS,
        cli=req.cli,
    )
    return data


_PLAN_COLUMNS = ["dp", "tp", "pp", "ep", "cp", "zero_stage", "schedule", "microbatch_size"]
_PLAN_COLUMNS += ["recompute", "precision"]
_METRICS = ["step_time_s", "mfu", "tokens_per_s", "memory_per_device_bytes", "run_time_s"]
_METRICS += ["device_hours", "cost_usd", "energy_kwh", "co2_kg", "joules_per_token"]


def tables(results: dict[str, Any]) -> dict[str, Csv]:
    """The CSV exports: ranked plans, Pareto front, and each plan's step and memory breakdown."""

    def rows(plans: list[dict[str, Any]]) -> list[list[Any]]:
        return [
            [p["rank"], p["num_devices"]]
            + [p["plan"][k] for k in _PLAN_COLUMNS]
            + [p[k] for k in _METRICS]
            + [p["time_s_per_token"], p["cost_usd_per_token"], p["energy_j_per_token"]]
            + [p["num_equivalent"]]
            for p in plans
        ]

    head = ["rank", "num_devices", *_PLAN_COLUMNS, *_METRICS]
    head += ["time_s_per_token", "cost_usd_per_token", "energy_j_per_token", "num_equivalent"]
    plans = results["plans"]
    breakdown = [[p["rank"], k, v] for p in plans for k, v in p["breakdown_s"].items()]
    memory = [[p["rank"], k, v] for p in plans for k, v in p["memory_breakdown_bytes"].items()]
    return {
        "plans": (head, rows(plans)),
        "pareto": (head, rows(results["pareto"])),
        "breakdown": (["rank", "component", "seconds"], breakdown),
        "memory": (["rank", "part", "bytes"], memory),
    }
