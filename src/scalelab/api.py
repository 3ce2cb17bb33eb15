"""The Python API: builders for the three inputs and the plan, and the entry points the CLI runs.

`import scalelab as sl` exposes every name in `__all__` (docs/api.md walks through them). Inputs
are the same frozen pydantic specs the CLI builds; builders accept what the CLI accepts (catalog
ids, `h800x2048`, TOML files, Hugging Face config.json, `16Mi`) and raise one-line ConfigErrors.
Every entry point returns an object with `.to_dict()`: exactly the `results` of the matching
command's `--json` (docs/json.md), so a script and a shell pipeline see the same numbers.
The planner is `plan_train` (and `plan_serve`), validation `validate_cases`: `scalelab.plan` and
`scalelab.validate` are subpackages, so those two names cannot be functions of the package.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from scalelab.core.errors import ConfigError
from scalelab.core.hf_import import is_hf_config, model_from_hf_config
from scalelab.core.io import build
from scalelab.core.scenario import (
    Scenario,
    load_scenario_file,
    resolve_cluster,
    resolve_inference_workload,
    resolve_model,
    resolve_plan,
)
from scalelab.core.serve_parallel import resolve_serving_plan
from scalelab.core.site import Site, parse_prices
from scalelab.core.specs import (
    ClusterSpec,
    InferenceWorkload,
    ModelSpec,
    ParallelPlan,
    TrainWorkload,
)
from scalelab.core.units import parse_count, sequences_in_batch
from scalelab.hw.scaleout import apply_topology
from scalelab.perf.serve.disagg import DisaggResult
from scalelab.perf.serve.predict import InferenceResult
from scalelab.perf.train.predict import TrainPrediction
from scalelab.plan.search import OBJECTIVES, TrainSearch, search_train
from scalelab.plan.serve import ServePlan
from scalelab.plan.serve_scenario import ServeScenario, predict_serve
from scalelab.plan.whatif import DEFAULT_SERVE, DEFAULT_TRAIN, PHASES, WhatIf
from scalelab.validate.runner import CaseResult, run_cases, to_json

ModelLike = ModelSpec | str | Path | Mapping[str, Any]
ClusterLike = ClusterSpec | str | Path | Mapping[str, Any]
PlanLike = ParallelPlan | Mapping[str, Any]


@runtime_checkable
class Result(Protocol):
    """What every entry point returns: `.to_dict()` is the command's `--json` results."""

    def to_dict(self) -> dict[str, Any]: ...


def model(spec: ModelLike | None = None, **fields: Any) -> ModelSpec:
    """A model from a catalog id ("deepseek-v3"), a file (our TOML/JSON or a Hugging Face
    config.json), an HF config dict, or ModelSpec fields; `fields` override what `spec` gives."""
    if spec is None:
        return build(ModelSpec, fields, "sl.model")
    if isinstance(spec, ModelSpec):
        base = spec
    elif isinstance(spec, Mapping):
        data = dict(spec)
        base = model_from_hf_config(data, "sl.model") if is_hf_config(data) else resolve_model(data)
    else:
        base = resolve_model(str(spec))
    if not fields:
        return base
    return build(ModelSpec, {**base.model_dump(), **fields}, "sl.model")


def cluster(
    spec: ClusterLike = "h100x8",
    *,
    price_usd_per_hour: float | str | None = None,
    grid_co2_kg_per_kwh: float | None = None,
    **fields: Any,
) -> ClusterSpec:
    """A cluster from `ACCELERATORxCOUNT` ("h800x2048"), a cluster TOML, or a `[hardware]` table;
    `fields` override ClusterSpec fields (e.g. pue=1.1). The price (one number, or "h100=2.5,...")
    and the carbon intensity replace the catalog's as the CLI's --price-usd-per-hour and
    --co2-kg-per-kwh do. The network topology is folded in by the entry points, as in the CLI."""
    if isinstance(spec, ClusterSpec):
        base = spec
    elif isinstance(spec, Mapping):
        base = resolve_cluster(dict(spec), "sl.cluster")
    else:
        base = resolve_cluster(str(spec), "sl.cluster")
    if fields:
        base = build(ClusterSpec, {**base.model_dump(), **fields}, "sl.cluster")
    prices: dict[str, float] = {}
    if price_usd_per_hour is not None:
        prices = parse_prices(str(price_usd_per_hour), "price_usd_per_hour")
    return Site(prices, grid_co2_kg_per_kwh).cluster(base)


# the entry points' parameters are named model and cluster; they reach the builders by these
_model, _cluster = model, cluster


def workload(
    *,
    global_batch: int | None = None,
    batch_tokens: int | str | None = None,
    seq_len: int = 4096,
    train_tokens: float | str | None = None,
    **fields: Any,
) -> TrainWorkload:
    """A training workload: the batch in sequences (`global_batch`) or tokens (`batch_tokens`,
    e.g. "16Mi" = 2^24; it must divide into whole sequences), the sequence length, and the tokens
    to train (e.g. "14.8T": run time, cost, energy). Other TrainWorkload fields: dtype, ..."""
    if (global_batch is None) == (batch_tokens is None):
        raise ConfigError("sl.workload: give exactly one of global_batch or batch_tokens")
    if batch_tokens is not None:
        global_batch = sequences_in_batch(str(batch_tokens), seq_len, "batch_tokens")
    if isinstance(train_tokens, str):
        train_tokens = parse_count(train_tokens, "train_tokens")
    data = {
        "global_batch_size": global_batch,
        "seq_len": seq_len,
        "train_tokens": train_tokens,
        **fields,
    }
    return build(TrainWorkload, data, "sl.workload")


def inference_workload(**fields: Any) -> InferenceWorkload:
    """A serving workload: prompt_tokens, output_tokens, batch_size, dtype, ...; latency targets
    as ttft_ms / tpot_ms (or ttft_target_s / tpot_target_s), as in a scenario's [workload]."""
    return resolve_inference_workload(fields, "sl.inference_workload")


def parallel_plan(**fields: Any) -> ParallelPlan:
    """A training plan in Megatron's vocabulary: dp, tp, pp, ep, cp, zero_stage, schedule, ..."""
    return resolve_plan(fields, "sl.parallel_plan")


def serving_plan(**fields: Any) -> ParallelPlan:
    """A serving plan in vLLM's or SGLang's vocabulary (tp, dp, ep, pp, replicas; docs/inference.md)."""
    return resolve_serving_plan(fields, "sl.serving_plan")


def scenario(path: str | Path, phase: str = "train") -> Scenario:
    """The model, cluster, plan and workload of a scenario TOML (phase "train" or "infer")."""
    if phase not in PHASES:
        raise ConfigError(f"sl.scenario: phase must be one of {', '.join(PHASES)}, got '{phase}'")
    return load_scenario_file(path, phase)


def _parallel(p: PlanLike | None, serving: bool) -> ParallelPlan:
    if isinstance(p, ParallelPlan):
        return p
    fields = dict(p or {})
    return serving_plan(**fields) if serving else parallel_plan(**fields)


def predict_train(
    model: ModelLike | Scenario,
    cluster: ClusterLike | None = None,
    plan: PlanLike | None = None,
    workload: TrainWorkload | None = None,
) -> TrainPrediction:
    """One training plan (`scalelab predict train`): step time and breakdown, MFU, memory, and
    with train_tokens the run's time, cost, energy and CO2. Pass a Scenario or its four parts."""
    from scalelab.perf.train.predict import predict_train as run

    if isinstance(model, Scenario):
        sc = model
    else:
        if cluster is None or workload is None:
            raise ConfigError("sl.predict_train: give a model, a cluster, a plan and a workload")
        sc = Scenario(_model(model), _cluster(cluster), _parallel(plan, False), workload)
    return run(Scenario(sc.model, apply_topology(sc.cluster), sc.plan, sc.workload))


def predict_inference(
    model: ModelLike | Scenario,
    cluster: ClusterLike | None = None,
    plan: PlanLike | None = None,
    workload: InferenceWorkload | None = None,
    *,
    prefill_devices: int = 0,
    prefill_plan: PlanLike | None = None,
) -> InferenceResult | DisaggResult:
    """One deployment (`scalelab predict infer`): TTFT, TPOT, tokens/s per GPU, concurrency,
    $ and J per token. With `prefill_devices` and `prefill_plan`, a disaggregated deployment."""
    if isinstance(model, Scenario):
        sc = model
    else:
        if cluster is None:
            raise ConfigError("sl.predict_inference: give a model, a cluster and a plan")
        w = workload or inference_workload()
        sc = Scenario(_model(model), _cluster(cluster), _parallel(plan, True), w)
    sc = Scenario(sc.model, apply_topology(sc.cluster), sc.plan, sc.workload)
    pre = _parallel(prefill_plan, True) if prefill_plan is not None else None
    if (pre is None) != (prefill_devices == 0):
        raise ConfigError("sl.predict_inference: give both prefill_devices and prefill_plan")
    return predict_serve(ServeScenario(sc, prefill_devices, pre))


def plan_train(
    model: ModelLike,
    cluster: ClusterLike,
    workload: TrainWorkload,
    objective: str = "time",
    top: int = 5,
    scale_down: int = 0,
) -> TrainSearch:
    """The best training plans (`scalelab plan`): ranked by time, cost or energy per token,
    with the Pareto front, rejection counts and why the winner wins."""
    if objective not in OBJECTIVES:
        raise ConfigError(f"sl.plan_train: objective must be one of {', '.join(OBJECTIVES)}")
    if top < 1:
        raise ConfigError(f"sl.plan_train: top must be >= 1, got {top}")
    c = apply_topology(_cluster(cluster))
    return search_train(_model(model), c, workload, objective, top=top, scale_down=scale_down)


def plan_serve(
    model: ModelLike,
    cluster: ClusterLike,
    workload: InferenceWorkload | None = None,
    top: int = 10,
    disaggregation: bool = True,
) -> ServePlan:
    """The cheapest deployments meeting the workload's TTFT/TPOT targets (`scalelab plan-serve`),
    collocated or disaggregated, and the latency-throughput Pareto frontier."""
    from scalelab.plan.serve import plan_serve as run

    c = apply_topology(_cluster(cluster))
    w = workload or inference_workload()
    return run(_model(model), c, w, top=top, disaggregation=disaggregation)


def whatif(
    model: ModelLike,
    baseline: str = "h800x2048",
    vs: Iterable[str] = ("h200x2048",),
    phase: str = "train",
    *,
    train: TrainWorkload = DEFAULT_TRAIN,
    serve: InferenceWorkload = DEFAULT_SERVE,
    quick: bool = False,
    serve_devices: int | None = None,
    price_usd_per_hour: float | str | None = None,
    grid_co2_kg_per_kwh: float | None = None,
) -> WhatIf:
    """The same model on other hardware (`scalelab whatif`): SPECs as on the command line
    (h200x2048, a cluster TOML, photonic, cim, fpga), ratios against the baseline."""
    from scalelab.plan.hardware import SWEEP_SPACE
    from scalelab.plan.whatif import whatif as run

    prices = (
        parse_prices(str(price_usd_per_hour), "price_usd_per_hour") if price_usd_per_hour else {}
    )
    return run(
        _model(model),
        baseline,
        list(vs),
        phase,
        train=train,
        serve=serve,
        opts=SWEEP_SPACE if quick else None,
        serve_devices=serve_devices,
        site=Site(prices, grid_co2_kg_per_kwh),
    )


@dataclass(frozen=True)
class Validation:
    """Validation cases scored (`scalelab validate`): iterate for CaseResults."""

    cases: list[CaseResult]

    def __iter__(self) -> Iterator[CaseResult]:
        return iter(self.cases)

    def __len__(self) -> int:
        return len(self.cases)

    @property
    def summary(self) -> dict[str, int]:
        """Cases per status: pass, fail, unsupported, error."""
        return dict(self.to_dict()["summary"])

    def to_dict(self) -> dict[str, Any]:
        return to_json(self.cases)


def validate_cases(cases: str | Path | None = None, kind: str | None = None) -> Validation:
    """Predicted vs expected for every case of the shipped files (or `cases`), of one `kind`."""
    return Validation(run_cases(Path(cases) if cases else None, kind))


__all__ = [
    "Result",
    "Validation",
    "cluster",
    "inference_workload",
    "model",
    "parallel_plan",
    "plan_serve",
    "plan_train",
    "predict_inference",
    "predict_train",
    "scenario",
    "serving_plan",
    "validate_cases",
    "whatif",
    "workload",
]
