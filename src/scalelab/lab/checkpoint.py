"""Checkpoints a run can resume from bit-exactly: weights, optimizer and RNG state, written atomically.

Layout: DIR/step_00000100/{model,optimizer,rng}.safetensors + optimizer.json + trainer.json +
manifest.json (sha256 and size of every file, written last; `lab/manifest.py`), and DIR/latest
naming the newest, moved only after the new folder verified. Nothing is pickled; a checkpoint
that fails verification raises CheckpointError, never restarts.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from scalelab.core.errors import CheckpointError
from scalelab.lab.manifest import (
    LATEST,
    MANIFEST,
    latest_checkpoint,
    publish,
    remove_stale_temps,
    step_dir_name,
    write_manifest,
)
from scalelab.lab.manifest import verify_checkpoint as verify_manifest

__all__ = ["LATEST", "MANIFEST", "latest_checkpoint", "load_checkpoint", "save_checkpoint"]
KIND = "single-process"
# What a damaged or crafted file can make the loaders raise (never BaseException-only errors).
LOAD_ERRORS = (SafetensorError, ValueError, KeyError, TypeError, IndexError, RuntimeError, OSError)


def split_optimizer_state(state: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """optimizer.state_dict() -> (tensors keyed 'PARAM.KEY', everything else as JSON-ready data)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for idx, per_param in state["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{idx}.{key}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(idx), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def join_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        idx, key = name.split(".", 1)
        state.setdefault(int(idx), {})[key] = value
    for idx, values in meta["scalars"].items():
        state.setdefault(int(idx), {}).update(values)
    groups = [
        {**g, "betas": tuple(g["betas"])} if "betas" in g else g for g in meta["param_groups"]
    ]
    return {"state": state, "param_groups": groups}


def _aliases(model: nn.Module) -> set[str]:
    """State-dict names that share storage with an earlier name (tied weights)."""
    seen: set[int] = set()
    aliases = set()
    for name, t in model.state_dict().items():
        if t.numel() and t.data_ptr() in seen:
            aliases.add(name)
        seen.add(t.data_ptr())
    return aliases


def _model_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    # safetensors refuses shared storage, so a tied weight is stored once under its first name.
    skip = _aliases(model)
    return {
        n: t.detach().contiguous().cpu() for n, t in model.state_dict().items() if n not in skip
    }


def save_checkpoint(
    root: Path,
    step: int,
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    rng: dict[str, torch.Tensor],
    trainer_state: dict[str, Any],
) -> Path:
    """Write step `step` into a temp folder with its manifest, verify it, rename it into place,
    then point `latest` at it (a crash at any point leaves the previous checkpoint as latest)."""
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(root)  # a killed writer's; the run lock keeps live writers out
    tmp = root / f".{step_dir_name(step)}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        opt_tensors, opt_meta = split_optimizer_state(optimizer.state_dict())
        save_file(_model_tensors(model), str(tmp / "model.safetensors"))
        save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
        save_file({k: v.contiguous() for k, v in rng.items()}, str(tmp / "rng.safetensors"))
        (tmp / "optimizer.json").write_text(json.dumps(opt_meta))
        (tmp / "trainer.json").write_text(json.dumps({**trainer_state, "step": step}))
        write_manifest(tmp, step, KIND)
        return publish(root, tmp, step, KIND)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def verify_checkpoint(path: Path) -> dict[str, Any]:
    """Check every file of a single-process checkpoint against its manifest; returns it."""
    return verify_manifest(path, KIND)


def load_checkpoint(
    path: Path, model: nn.Module, optimizer: torch.optim.Optimizer
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Verify, then load weights and optimizer in place; returns (rng state, trainer state)."""
    verify_checkpoint(path)
    try:
        weights = load_file(str(path / "model.safetensors"))
        missing, unexpected = model.load_state_dict(weights, strict=False)
        absent = set(missing) - _aliases(model)
        if absent or unexpected:
            raise CheckpointError(
                f"{path}: weights do not match the model (missing {sorted(absent)[:3]}, "
                f"unexpected {sorted(unexpected)[:3]}); was the model config changed?"
            )
        meta = json.loads((path / "optimizer.json").read_text())
        opt_state = join_optimizer_state(load_file(str(path / "optimizer.safetensors")), meta)
        optimizer.load_state_dict(opt_state)
        rng = load_file(str(path / "rng.safetensors"))
        trainer_state = json.loads((path / "trainer.json").read_text())
    except LOAD_ERRORS as exc:
        raise CheckpointError(f"{path}: cannot be loaded: {first_line(exc)}") from None
    return rng, trainer_state


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name when it has none)."""
    lines = str(exc).strip().splitlines()
    return lines[0][:300] if lines else type(exc).__name__
