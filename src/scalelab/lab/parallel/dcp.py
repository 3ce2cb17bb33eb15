"""Distributed checkpoints (`torch.distributed.checkpoint`) stored as safetensors + JSON: every
rank writes its shards, each tensor's place in the global tensor is in its file's safetensors
header, and loading redistributes onto whatever mesh the resuming job has (other world size,
dp/FSDP degree, tp). Holds model, optimizer, data position and step.

Nothing is unpickled: DCP's default `.metadata` file is a pickle, so the shards are written and
read with DCP's Hugging Face safetensors storage (the layout is rebuilt from the shards' JSON
headers). A manifest.json with the SHA-256 of every shard (`lab/manifest.py`) is written last
and verified by every rank before loading.

Layout: ROOT/step_00000100/{shard-0000R-model-00001-of-00001.safetensors..., manifest.json}
(renamed into place when complete and verified) and ROOT/latest.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
from safetensors import SafetensorError
from torch import nn
from torch.distributed.checkpoint import HuggingFaceStorageReader, HuggingFaceStorageWriter
from torch.distributed.checkpoint.api import CheckpointException
from torch.distributed.checkpoint.state_dict import (
    get_model_state_dict,
    get_optimizer_state_dict,
    set_model_state_dict,
    set_optimizer_state_dict,
)
from torch.distributed.tensor import DTensor

from scalelab.core.errors import CheckpointError
from scalelab.lab.checkpoint import first_line
from scalelab.lab.manifest import (
    LATEST,
    latest_checkpoint,
    publish,
    remove_stale_temps,
    step_dir_name,
    verify_checkpoint,
    write_manifest,
)

__all__ = ["LATEST", "DistCheckpointer", "latest_checkpoint", "load_full_model"]
KIND = "distributed"
PICKLED_METADATA = ".metadata"
# What a damaged or crafted shard can make DCP raise. CheckpointException derives from
# BaseException (it wraps the per-rank failures), so it must be named to be caught.
LOAD_ERRORS = (
    CheckpointException,
    SafetensorError,
    AssertionError,
    RuntimeError,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    OSError,
)


def _untied(state: dict[str, Any]) -> dict[str, Any]:
    """Tied weights (the head sharing the embedding) appear under two names with one storage,
    which safetensors refuses; the second name gets a copy (same values, loaded back into the
    same parameter)."""
    seen: set[int] = set()
    out = {}
    for name, value in state.items():
        local = value.to_local() if isinstance(value, DTensor) else value
        if isinstance(local, torch.Tensor) and local.numel():
            ptr = local.untyped_storage().data_ptr()
            value = value.clone() if ptr in seen else value
            seen.add(ptr)
        out[name] = value
    return out


class ModelState:
    """The model's state dict by full-model parameter names (DCP `Stateful`)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def state_dict(self) -> dict[str, Any]:
        return _untied(get_model_state_dict(self.model))

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


def verify_dist_checkpoint(path: Path) -> None:
    """The manifest check, with a clear word for DCP's older pickle-based format."""
    if (path / PICKLED_METADATA).exists():
        raise CheckpointError(
            f"{path}: holds a pickled DCP {PICKLED_METADATA} file; scalelab never unpickles "
            "checkpoint files (older format or a crafted folder), so it cannot be resumed"
        )
    verify_checkpoint(path, KIND)


def _dcp_load(state: dict[str, Any], path: Path, no_dist: bool = False) -> None:
    try:
        with warnings.catch_warnings():
            # DCP warns that it "assumes" a single process; for no_dist that is the point.
            warnings.filterwarnings("ignore", message="torch.distributed is disabled")
            dcp.load(state, storage_reader=HuggingFaceStorageReader(str(path)), no_dist=no_dist)
    except LOAD_ERRORS as exc:
        raise CheckpointError(f"{path}: cannot be loaded: {first_line(exc)}") from None


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
        """Write step `step` to a temporary folder; rank 0 hashes it into the manifest, verifies
        it, renames it and then points `latest` at it."""
        self.trainer.step = step
        tmp = self.root / f".{step_dir_name(step)}.tmp"
        if _is_coordinator():
            remove_stale_temps(self.root)
            tmp.mkdir(parents=True)
        _barrier()
        writer = HuggingFaceStorageWriter(str(tmp), save_distributed=True)
        dcp.save(self.state, storage_writer=writer)
        _barrier()
        if _is_coordinator():
            write_manifest(tmp, step, KIND)
            publish(self.root, tmp, step, KIND)
        _barrier()
        return self.root / step_dir_name(step)

    def load_latest(self) -> int | None:
        """Restore the newest checkpoint; returns its step, or None when there is none. Every
        rank verifies the files itself, so all ranks agree without a collective."""
        path = latest_checkpoint(self.root)
        if path is None:
            return None
        verify_dist_checkpoint(path)
        _dcp_load(self.state, path)
        return self.trainer.step


def load_full_model(path: Path, model: nn.Module) -> int:
    """Load the model weights of a distributed checkpoint into a plain single-process model
    (any world size it was saved with); returns the checkpoint's step."""
    verify_dist_checkpoint(path)
    state = {"model": model.state_dict(), "trainer": {"step": torch.tensor(0)}}
    _dcp_load(state, path, no_dist=not dist.is_initialized())
    model.load_state_dict(state["model"])
    return int(state["trainer"]["step"])
