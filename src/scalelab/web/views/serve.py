"""Serve view: `scalelab plan-serve` behind the page. The cheapest deployment meeting the TTFT/TPOT
targets and the latency-throughput frontier (plan/serve.plan_serve), per GPU first; J per output
token of each deployment at its batch from plan/serve_scenario.predict_serve (predict_inference
collocated, predict_disaggregated for split pools), as `predict infer` computes it.
`_option` is the one place that reads plan/serve's ServeOption."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scalelab.core import flags
from scalelab.core.errors import ScalelabError
from scalelab.core.scenario import Scenario
from scalelab.core.specs import ClusterSpec, InferenceWorkload, ModelSpec
from scalelab.plan.serve import ServeOption, plan_serve
from scalelab.plan.serve_scenario import ServeScenario, predict_serve
from scalelab.web.inputs import (
    MAX_TOKENS,
    FieldError,
    Params,
    on_flags,
    read_cluster,
    read_model,
    read_site,
)
from scalelab.web.jobs import Progress
from scalelab.web.views.common import Csv, cluster_json, model_json

COMMAND = "web serve"
DTYPES = ("bf16", "fp8", "int8", "int4")
FLAGS = ("prompt", "output", "dtype", "ttft-ms", "tpot-ms")
MAX_TOP = 20
# The report's serving case (2,048-token prompts, 512 out, fp8, TTFT 2 s, TPOT 50 ms) on
# DeepSeek-V3's 320-GPU decode deployment (TR Sec 3.4.2).
DEFAULTS = {
    "model": "deepseek-v3",
    "cluster": "h800x320",
    "prompt": "2048",
    "output": "512",
    "dtype": "fp8",
    "ttft-ms": "2000",
    "tpot-ms": "50",
    "top": "5",  # each listed deployment's J/token is one more prediction
}


@dataclass(frozen=True)
class ServeRequest:
    model: ModelSpec
    model_id: str | None
    cluster: ClusterSpec
    workload: InferenceWorkload
    top: int
    cli: str


def parse(p: Params) -> ServeRequest:
    """The page's fields through the CLI's parsers (`p` falls back to DEFAULTS)."""
    model, model_id = read_model(p)
    cluster = read_cluster(p, site=read_site(p, co2=False))
    prompt = p.integer("prompt", MAX_TOKENS, lo=1)
    output = p.integer("output", MAX_TOKENS, lo=1)
    dtype = p.choice("dtype", DTYPES)
    ttft_ms, tpot_ms = p.number("ttft-ms", gt=0), p.number("tpot-ms", gt=0)
    with on_flags(FLAGS, "ttft-ms"):
        workload = flags.serve_workload(prompt, output, dtype, ttft_ms, tpot_ms)
    top = p.integer("top", MAX_TOP, lo=1)
    parts = [f"scalelab plan-serve --model {model_id or 'config.json'}"]
    parts += [f"--cluster {p.used['cluster']}", f"--prompt {prompt} --output {output}"]
    parts += [f"--dtype {dtype}", f"--top {top}"]
    parts += [f"--ttft-ms {ttft_ms:g}"] if ttft_ms is not None else []
    parts += [f"--tpot-ms {tpot_ms:g}"] if tpot_ms is not None else []
    price = p.used.get("price-usd-per-hour")
    parts += [f"--price-usd-per-hour {price}"] if price else []
    return ServeRequest(model, model_id, cluster, workload, top, " ".join(parts))


class _Joules:
    """J per output token of a deployment at its batch, each computed once per answer: for the
    options meeting the targets (a few ms each); frontier points only where they are options too,
    so a 20-point frontier does not double the answer's time."""

    def __init__(self, req: ServeRequest) -> None:
        self.req = req
        self.memo: dict[str, float | None] = {}

    def __call__(self, o: ServeOption, compute: bool = True) -> float | None:
        """`compute=False`: only what is already known (frontier points that are also options)."""
        batch = max(1, round(o.sequences_per_replica))
        key = f"{o.label}|{batch}|{o.prefill_devices}"
        if key not in self.memo and compute:
            self.memo[key] = self._at(o, batch)
        return self.memo.get(key)

    def _at(self, o: ServeOption, batch: int) -> float | None:
        req = self.req
        w = req.workload.model_copy(update={"batch_size": batch})
        scenario = Scenario(req.model, req.cluster, o.decode_plan, w)
        try:
            j = predict_serve(ServeScenario(scenario, o.prefill_devices, o.prefill_plan))
        except ScalelabError:
            return None
        value = j.joules_per_token
        return value if value is not None and math.isfinite(value) else None


def _option(o: ServeOption, joules: float | None) -> dict[str, Any]:
    """plan-serve --json's own option dict (ServeOption.to_dict) with its J/token."""
    return {**o.to_dict(), "joules_per_token": joules}


def compute(req: ServeRequest, progress: Progress) -> dict[str, Any]:
    """Run plan-serve; a target no deployment meets is the CLI's one-line InfeasiblePlan."""
    progress.step(
        f"searching deployments of {req.model.name} on {req.cluster.num_devices:,} x "
        f"{req.cluster.accelerator.id}",
        0,
        2,
    )
    try:
        found = plan_serve(req.model, req.cluster, req.workload, top=req.top)
    except ScalelabError as exc:  # unmet targets name the target; a model too big, the cluster
        text = str(exc)
        field = "ttft-ms" if text.startswith("TTFT") else "tpot-ms" if "TPOT" in text else "cluster"
        raise FieldError(field, text) from None
    progress.step("energy per token of each deployment", 1, 2)
    joules = _Joules(req)
    result = {
        "model": model_json(req.model, req.model_id),
        "cluster": cluster_json(req.cluster),
        "workload": req.workload.model_dump(),
        "best": _option(found.best, joules(found.best)),
        "options": [_option(o, joules(o)) for o in found.options],
        "pareto": [_option(o, joules(o, compute=False)) for o in found.pareto],
        "evaluated": found.num_evaluated,
        "cli": req.cli,
    }
    progress.step("done", 2, 2)
    return result


_COLUMNS = ["mode", "deployment", "sequences_per_replica", "ttft_s", "tpot_s"]
_COLUMNS += ["output_tokens_per_s_per_device", "output_tokens_per_s_per_node", "idle_devices"]
_COLUMNS += ["usd_per_million_output_tokens", "joules_per_token", "max_concurrency"]
_COLUMNS += ["prefill_devices", "decode_devices"]


def tables(results: dict[str, Any]) -> dict[str, Csv]:
    """The CSV exports: deployments meeting the targets, and the frontier."""
    return {
        name: (list(_COLUMNS), [[o[k] for k in _COLUMNS] for o in results[name]])
        for name in ("options", "pareto")
    }
