"""scalelab: a calibrated performance model and a PyTorch lab for scaling large language models.

    import scalelab as sl
    m = sl.model("llama-3.1-70b")
    c = sl.cluster("h100x1024")
    w = sl.workload(batch_tokens="16Mi", seq_len=8192, train_tokens="15T")
    best = sl.plan_train(m, c, w).plans[0]

Builders: model, cluster, workload, inference_workload, parallel_plan, serving_plan, scenario.
Entry points: predict_train, predict_inference, plan_train, plan_serve, whatif, validate_cases;
each returns an object with .to_dict(), the `results` of the matching command's --json
(docs/api.md, docs/json.md). `scalelab.plan` and `scalelab.validate` are subpackages, hence
plan_train and validate_cases.
The names load on first use, so `import scalelab` stays fast and never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it; loaded on first attribute access (PEP 562)
_LAZY = {
    **{
        name: "scalelab.api"
        for name in (
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
        )
    },
    **{
        name: "scalelab.core.specs"
        for name in (
            "ModelSpec",
            "ClusterSpec",
            "ParallelPlan",
            "TrainWorkload",
            "InferenceWorkload",
        )
    },
    **{
        name: "scalelab.core.errors"
        for name in ("ScalelabError", "ConfigError", "CatalogError", "InfeasiblePlan")
    },
}

__all__ = [
    "__version__",
    "CatalogError",
    "ClusterSpec",
    "ConfigError",
    "InfeasiblePlan",
    "InferenceWorkload",
    "ModelSpec",
    "ParallelPlan",
    "Result",
    "ScalelabError",
    "TrainWorkload",
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

if TYPE_CHECKING:
    from scalelab.api import (
        Result,
        Validation,
        cluster,
        inference_workload,
        model,
        parallel_plan,
        plan_serve,
        plan_train,
        predict_inference,
        predict_train,
        scenario,
        serving_plan,
        validate_cases,
        whatif,
        workload,
    )
    from scalelab.core.errors import CatalogError, ConfigError, InfeasiblePlan, ScalelabError
    from scalelab.core.specs import (
        ClusterSpec,
        InferenceWorkload,
        ModelSpec,
        ParallelPlan,
        TrainWorkload,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'scalelab' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
