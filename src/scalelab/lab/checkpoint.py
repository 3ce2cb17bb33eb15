"""Checkpoints a run can resume from bit-exactly: weights, optimizer and RNG state, written atomically.

Layout: DIR/step_00000100/{model,optimizer,rng}.safetensors + optimizer.json + trainer.json +
manifest.json (sha256 and size of every file, written last), and DIR/latest naming the newest.
Nothing is pickled; a checkpoint that fails verification raises CheckpointError, never restarts.
"""

from __future__ import annotations

import hashlib
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
from scalelab.core.io import write_atomic

MANIFEST = "manifest.json"
LATEST = "latest"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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
    """Write step `step` into a temp folder, verify nothing, rename it into place, then point `latest`."""
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"step_{step:08d}"
    tmp = root / f".{final.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    opt_tensors, opt_meta = split_optimizer_state(optimizer.state_dict())
    save_file(_model_tensors(model), str(tmp / "model.safetensors"))
    save_file(opt_tensors, str(tmp / "optimizer.safetensors"))
    save_file({k: v.contiguous() for k, v in rng.items()}, str(tmp / "rng.safetensors"))
    (tmp / "optimizer.json").write_text(json.dumps(opt_meta))
    (tmp / "trainer.json").write_text(json.dumps({**trainer_state, "step": step}))
    files = sorted(p.name for p in tmp.iterdir())
    manifest = {
        f: {"sha256": _sha256(tmp / f), "size_bytes": (tmp / f).stat().st_size} for f in files
    }
    write_atomic(tmp / MANIFEST, json.dumps({"step": step, "files": manifest}, indent=1))
    if final.exists():
        shutil.rmtree(final)
    os.replace(tmp, final)
    write_atomic(root / LATEST, final.name)
    return final


def latest_checkpoint(root: Path) -> Path | None:
    """The folder `latest` names, or None when `root` holds no checkpoint at all."""
    pointer = root / LATEST
    if not pointer.exists():
        return None
    path = root / pointer.read_text().strip()
    if not path.is_dir():
        raise CheckpointError(f"{pointer} names {path.name}, which does not exist")
    return path


def verify_checkpoint(path: Path) -> dict[str, Any]:
    """Check every file against the manifest; returns the manifest."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
        files = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CheckpointError(
            f"{path}: missing or unreadable {MANIFEST}; checkpoint is incomplete"
        ) from None
    for name, info in files.items():
        f = path / name
        if not f.is_file():
            raise CheckpointError(f"{path}: {name} is missing")
        if f.stat().st_size != info["size_bytes"]:
            raise CheckpointError(
                f"{path}: {name} is truncated or padded ({f.stat().st_size} bytes, expected {info['size_bytes']})"
            )
        if _sha256(f) != info["sha256"]:
            raise CheckpointError(f"{path}: {name} is corrupted (sha256 mismatch)")
    return manifest


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
    except (SafetensorError, ValueError, KeyError, RuntimeError) as exc:
        raise CheckpointError(f"{path}: cannot be loaded: {str(exc).splitlines()[0]}") from None
    return rng, trainer_state
