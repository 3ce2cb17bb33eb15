"""RUN.toml for distributed training: `scalelab train`'s run file plus a `[parallel]` table,
which is the ParallelPlan the analytic model reads (dp, tp, pp, zero_stage, schedule, ...).

The lab executes in `train.precision` (fp32 on CPU); `parallel.precision` only feeds predictions.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalelab.core.errors import ConfigError
from scalelab.core.io import build, read_mapping
from scalelab.core.scenario import resolve_plan
from scalelab.core.specs import ParallelPlan
from scalelab.lab.config import RunConfig

CHECKPOINT_SUBDIR = "dcp"


@dataclass(frozen=True)
class DistRun:
    """A run file's training setup and its parallel plan."""

    run: RunConfig
    plan: ParallelPlan
    source: Path | None = None

    @property
    def out_dir(self) -> Path:
        return self.run.output.dir

    @property
    def checkpoint_dir(self) -> Path:
        return self.run.output.dir / CHECKPOINT_SUBDIR


def _rebase(path: Path | None, base: Path) -> Path | None:
    return path if path is None or path.is_absolute() else base / path


def dist_run_from_mapping(raw: dict[str, Any], where: str, base: Path | None = None) -> DistRun:
    """Split `[parallel]` off a run mapping and validate both parts; relative paths are taken
    from `base` (the run file's folder)."""
    raw = dict(raw)
    plan_table = raw.pop("parallel", None)
    if plan_table is not None and not isinstance(plan_table, dict):
        raise ConfigError(f"{where}: [parallel] must be a table")
    plan = resolve_plan(plan_table, f"{where}: parallel")
    cfg = build(RunConfig, raw, where)
    if cfg.optim.l2:
        raise ConfigError(f"{where}: optim.l2 is single-device only; use optim.weight_decay")
    if base is not None:
        data = cfg.data.model_copy(update={"path": _rebase(cfg.data.path, base)})
        out = cfg.output.model_copy(update={"dir": _rebase(cfg.output.dir, base)})
        cfg = cfg.model_copy(update={"data": data, "output": out})
    return DistRun(run=cfg, plan=plan)


def load_dist_run(path: Path, overrides: dict[str, dict[str, Any]] | None = None) -> DistRun:
    """Read RUN.toml; `overrides` (table -> key -> value, from flags) win over the file."""
    raw = read_mapping(path)
    for table, values in (overrides or {}).items():
        section = raw.setdefault(table, {})
        if not isinstance(section, dict):
            raise ConfigError(f"{path}: [{table}] must be a table")
        section.update(values)
    run = dist_run_from_mapping(raw, str(path), path.parent)
    return DistRun(run=run.run, plan=run.plan, source=path)
