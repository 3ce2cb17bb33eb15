"""One training step, separable from the loop: `train_step(model, batch, optimizer)`.

Distributed wrappers and benchmarks call this directly; the Trainer adds everything else.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from scalelab.core.errors import ConfigError
from scalelab.lab.optim import l2_penalty

Batch = tuple[torch.Tensor, torch.Tensor]


@dataclass(frozen=True)
class StepOutput:
    """Loss and pre-clip gradient norm of one step, as tensors (no device sync until read)."""

    loss: torch.Tensor
    grad_norm: torch.Tensor | None


def resolve_device(name: str) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device: 'cuda' requested but CUDA is not available")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """bf16 autocast under `auto` only where the device supports it; fp32 keeps CPU runs exact."""
    if precision == "bf16":
        return torch.bfloat16
    if precision == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return None


def autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def compute_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Mean cross-entropy; logits (..., classes) against integer targets (...)."""
    inputs, targets = batch
    logits = model(inputs)
    return F.cross_entropy(logits.flatten(0, -2).float(), targets.flatten())


def train_step(
    model: nn.Module,
    batch: Batch,
    optimizer: torch.optim.Optimizer,
    *,
    clip_grad_norm: float | None = None,
    dtype: torch.dtype | None = None,
    l2: float = 0.0,
) -> StepOutput:
    """One optimizer step on one batch; no schedule, logging or hooks (the Trainer adds those)."""
    model.train()
    optimizer.zero_grad(set_to_none=True)
    with autocast(batch[0].device, dtype):
        loss = compute_loss(model, batch)
    total = loss + l2_penalty(model, l2) if l2 else loss
    total.backward()
    grad_norm = None
    if clip_grad_norm is not None:
        grad_norm = nn.utils.clip_grad_norm_(model.parameters(), clip_grad_norm, foreach=True)
    optimizer.step()
    return StepOutput(loss.detach(), grad_norm)
