"""Distributed checkpoints (`torch.distributed.checkpoint`): every rank writes its shards, the
metadata records the global layout, and loading redistributes onto whatever mesh the resuming
job has (other world size, dp/FSDP degree). Holds model, optimizer, data position and step.

Layout: ROOT/step_00000100/ (DCP files, renamed into place when complete) and ROOT/latest.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from torch import nn
from torch.distributed.checkpoint.state_dict import (
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)

from scalelab.core.errors import CheckpointError
from scalelab.core.io import write_atomic

LATEST = "latest"


class ModelState:
    """The model's state dict by full-model parameter names (DCP `Stateful`)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def state_dict(self) -> dict[str, Any]:
        return get_model_state_dict(self.model)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        set_model_state_dict(self.model, state)


class OptimizerState:
    """The optimizer's per-parameter state keyed by parameter names, so it reshards with the
    model. Parameter groups are not saved: their hyper-parameters come from the run file, and
    their split (by tensor kind) differs between plans, e.g. with and without TP."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer) -> None:
        self.model, self.optimizer = model, optimizer

    def state_dict(self) -> dict[str, Any]:
        return {"state": get_optimizer_state_dict(self.model, self.optimizer)["state"]}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        groups = get_optimizer_state_dict(self.model, self.optimizer)["param_groups"]
        full = {"state": state["state"], "param_groups": groups}
        set_optimizer_state_dict(self.model, self.optimizer, full)  # type: ignore[arg-type]


class StepState:
    """The number of optimizer steps taken."""

    def __init__(self) -> None:
        self.step = 0

    def state_dict(self) -> dict[str, Any]:
        return {"step": torch.tensor(self.step)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.step = int(state["step"])


def _is_coordinator() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


def _barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


class DistCheckpointer:
    """Save/restore `{model, optim, data, trainer}` under `root` from every rank at once."""

    def __init__(self, root: Path, model: nn.Module, optimizer: torch.optim.Optimizer, data: Any):
        self.root = root
        self.trainer = StepState()
        self.state = {
            "model": ModelState(model),
            "optim": OptimizerState(model, optimizer),
            "data": data,
            "trainer": self.trainer,
        }

    def save(self, step: int) -> Path:
        """Write step `step` to a temporary folder, then rename it and point `latest` at it."""
        self.trainer.step = step
        final = self.root / f"step_{step:08d}"
        tmp = self.root / f".{final.name}.tmp"
        if _is_coordinator():
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
        _barrier()
        dcp.save(self.state, checkpoint_id=str(tmp))
        _barrier()
        if _is_coordinator():
            shutil.rmtree(final, ignore_errors=True)
            tmp.rename(final)
            write_atomic(self.root / LATEST, final.name)
        _barrier()
        return final

    def load_latest(self) -> int | None:
        """Restore the newest complete checkpoint; returns its step, or None when there is none."""
        path = latest_checkpoint(self.root)
        if path is None:
            return None
        try:
            dcp.load(self.state, checkpoint_id=str(path))
        except (RuntimeError, ValueError, KeyError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(f"{path}: cannot be loaded: {first}") from None
        return self.trainer.step


def latest_checkpoint(root: Path) -> Path | None:
    """The folder `latest` names, or None when `root` holds no checkpoint."""
    pointer = root / LATEST
    if not pointer.is_file():
        return None
    path = root / pointer.read_text().strip()
    if not (path / ".metadata").is_file():
        raise CheckpointError(f"{pointer} names {path.name}, which is missing or incomplete")
    return path


def load_full_model(path: Path, model: nn.Module) -> int:
    """Load the model weights of a distributed checkpoint into a plain single-process model
    (any world size it was saved with); returns the checkpoint's step."""
    state = {"model": model.state_dict(), "trainer": {"step": torch.tensor(0)}}
    if not (path / ".metadata").is_file():
        raise CheckpointError(f"{path}: not a distributed checkpoint (no .metadata)")
    with warnings.catch_warnings():
        # DCP warns that it "assumes" a single process; here that is the point.
        warnings.filterwarnings("ignore", message="torch.distributed is disabled")
        dcp.load(state, checkpoint_id=str(path), no_dist=not dist.is_initialized())
    model.load_state_dict(state["model"])
    return int(state["trainer"]["step"])
