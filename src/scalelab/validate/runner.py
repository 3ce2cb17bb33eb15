"""Run validation cases (scalelab-validation/1 schema) and score predicted vs expected."""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from scalelab.core.errors import CatalogError, ConfigError, ScalelabError, located
from scalelab.core.io import build, read_mapping

SCHEMA = "scalelab-validation/1"
KINDS = ("model", "train", "inference", "network", "energy")
Status = Literal["pass", "fail", "unsupported", "error"]


# Case files `scalelab validate` runs when no --cases is given, shipped in validate/cases/:
# verbatim copies of shared/validation/public.yaml and calculon-t5.yaml, then serving-public.yaml.
DEFAULT_CASE_FILES = (
    "public.yaml",
    "calculon-t5.yaml",
    "serving-public.yaml",
    "megatron21-published-plans.yaml",  # public.yaml's Narayanan cases with the plans the authors ran
)


def default_cases_path(name: str = "public.yaml") -> Path:
    """A case file shipped inside the package (default: the copy of shared/validation/public.yaml)."""
    return Path(str(resources.files("scalelab.validate") / "cases" / name))


def default_cases_paths() -> list[Path]:
    """Every shipped case file `scalelab validate` runs without --cases."""
    return [default_cases_path(name) for name in DEFAULT_CASE_FILES]


@dataclass(frozen=True)
class MetricResult:
    key: str
    expected: float
    predicted: float | None

    @property
    def rel_error(self) -> float | None:
        if self.predicted is None:
            return None
        if self.expected == 0:
            return abs(self.predicted)
        return abs(self.predicted - self.expected) / abs(self.expected)


@dataclass(frozen=True)
class CaseResult:
    id: str
    kind: str
    source: str
    tolerance_frac: float
    metrics: list[MetricResult]
    message: str = ""
    extra: dict[str, float] = field(default_factory=dict)
    file: str = ""  # name of the case file the case came from

    def metric_status(self, metric: MetricResult) -> Status:
        err = metric.rel_error
        if err is None:
            return "unsupported"
        return "pass" if err <= self.tolerance_frac else "fail"

    @property
    def status(self) -> Status:
        if self.message:
            return "error"
        states = {self.metric_status(m) for m in self.metrics}
        for worst in ("fail", "unsupported"):
            if worst in states:
                return worst  # type: ignore[return-value]
        return "pass"


class CaseHead(BaseModel):
    """What every case carries beside its scenario tables (which the metric modules read
    through the specs): expected values are finite numbers, the tolerance a fraction."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    id: str = Field(min_length=1)
    kind: Literal["model", "train", "inference", "network", "energy"]
    source: str = ""
    note: str = ""
    status: str = ""
    expect: dict[str, float] = Field(min_length=1)
    tolerance_frac: float = Field(0.0, ge=0, le=1)
    model: str | dict[str, Any] = ""
    hardware: str | dict[str, Any] = Field(default_factory=dict)
    parallel: dict[str, Any] = Field(default_factory=dict)
    workload: dict[str, Any] = Field(default_factory=dict)
    disaggregation: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _tables_the_kind_reads(self) -> CaseHead:
        """A table its kind never reads is refused: unchecked, it could hold anything."""
        given = self.model_fields_set & set(UNREAD_TABLES[self.kind])
        if given:
            tables = ", ".join(sorted(given))
            raise ValueError(f"a {self.kind} case reads no {tables} table (remove it)")
        return self


# Tables a case of each kind does not read (metrics_<kind>.py).
UNREAD_TABLES = {
    "model": ("hardware", "parallel", "disaggregation"),
    "train": ("disaggregation",),
    "inference": (),
    "network": ("disaggregation",),
    "energy": ("disaggregation",),
}


def load_cases(path: str | Path | None = None) -> list[dict[str, Any]]:
    """Cases of a validation file (None: every file of DEFAULT_CASE_FILES, in order); a file of
    another schema, or a case that is not a CaseHead with its tables, is a ConfigError."""
    if path is None:
        return [c for name in DEFAULT_CASE_FILES for c in load_cases(default_cases_path(name))]
    path = Path(path)
    data = read_mapping(path)
    if data.get("schema") != SCHEMA:
        raise ConfigError(f"{path}: schema must be '{SCHEMA}', found {data.get('schema')!r}")
    cases = data.get("cases")
    if not isinstance(cases, list):
        raise ConfigError(f"{path}: 'cases' must be a list")
    for i, case in enumerate(cases):
        if not isinstance(case, dict):
            raise ConfigError(f"{path}: cases[{i}] must be a table")
        name = case.get("id") if isinstance(case.get("id"), str) else f"cases[{i}]"
        build(CaseHead, case, f"{path}: case {name}")
    return cases


def predict_case(case: dict[str, Any]) -> dict[str, float]:
    """All metrics our model produces for `case` (a provider module per kind)."""
    module = importlib.import_module(f"scalelab.validate.metrics_{case['kind']}")
    return module.compute(case)


def run_case(case: dict[str, Any], file: str = "") -> CaseResult:
    """Predict and score one case; a model error is recorded, not raised (a malformed case,
    ConfigError or CatalogError, is: the caller names the file)."""
    message = ""
    try:
        with located(f"case {case['id']}"):
            predicted = predict_case(case)
    except (ConfigError, CatalogError):
        raise
    except ScalelabError as exc:
        predicted, message = {}, f"{type(exc).__name__}: {exc}"
    metrics = []
    for key, expected in case["expect"].items():
        value = predicted.get(key)
        if value is not None and not math.isfinite(value):
            value = None
        metrics.append(MetricResult(key, float(expected), value))
    extra = {k: v for k, v in predicted.items() if k not in case["expect"]}
    return CaseResult(
        case["id"],
        case["kind"],
        str(case.get("source", "")),
        float(case.get("tolerance_frac", 0.0)),
        metrics,
        message,
        extra,
        file,
    )


def run_cases(path: str | Path | None = None, kind: str | None = None) -> list[CaseResult]:
    """Every case of the file (default: every shipped file), or only those of `kind`."""
    if kind is not None and kind not in KINDS:
        raise ConfigError(f"--kind: unknown kind '{kind}' (one of {', '.join(KINDS)})")
    paths = default_cases_paths() if path is None else [Path(path)]
    results = []
    for p in paths:
        with located(str(p)):
            results += [run_case(c, p.name) for c in load_cases(p) if kind in (None, c["kind"])]
    return results


def to_json(results: list[CaseResult]) -> dict[str, Any]:
    """The documented `--json` shape: cases with metrics, and a summary of case statuses."""
    cases = []
    for r in results:
        metrics = {
            m.key: {
                "predicted": m.predicted,
                "expected": m.expected,
                "rel_error": m.rel_error,
                "status": r.metric_status(m),
            }
            for m in r.metrics
        }
        entry: dict[str, Any] = {
            "id": r.id,
            "kind": r.kind,
            "file": r.file,
            "status": r.status,
            "tolerance_frac": r.tolerance_frac,
            "metrics": metrics,
        }
        if r.message:
            entry["message"] = r.message
        cases.append(entry)
    summary = {
        s: sum(1 for r in results if r.status == s)
        for s in ("pass", "fail", "unsupported", "error")
    }
    return {
        "cases": cases,
        "summary": summary,
        "median_rel_error": median_errors(results),
        "median_rel_error_by_file": median_errors_by_file(results),
    }


TIMING_KEYS = (
    "step_time_s",
    "mfu",
    "mfu_causal",
    "mfu_noncausal",
    "tflops_per_device",
    "hardware_tflops_per_device",
)


def _median(errs: list[float]) -> float:
    errs, n = sorted(errs), len(errs)
    return errs[n // 2] if n % 2 else 0.5 * (errs[n // 2 - 1] + errs[n // 2])


def timing_errors(results: list[CaseResult], kind: str) -> list[float]:
    """Relative errors of every supported metric of `kind` (train: timing metrics only)."""
    return [
        e
        for r in results
        if r.kind == kind
        for m in r.metrics
        if (e := m.rel_error) is not None and (kind != "train" or m.key in TIMING_KEYS)
    ]


def median_errors(results: list[CaseResult]) -> dict[str, float | None]:
    """Median relative error per kind over all supported metrics (train: timing metrics only)."""
    out: dict[str, float | None] = {}
    for kind in KINDS:
        errs = timing_errors(results, kind)
        if errs:
            out[kind] = _median(errs)
    return out


def median_errors_by_file(results: list[CaseResult]) -> dict[str, dict[str, float | None]]:
    """median_errors of each case file's results separately."""
    files = dict.fromkeys(r.file for r in results)
    return {f: median_errors([r for r in results if r.file == f]) for f in files}
