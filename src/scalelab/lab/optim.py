"""Optimizers, the warmup + cosine learning-rate schedule, and explicit L2 (as opposed to decay).

Weight decay (AdamW, Loshchilov & Hutter 2019) shrinks weights outside the adaptive update;
explicit L2 adds (l2/2)*||w||^2 to the loss, so Adam rescales it like any gradient. For plain
SGD the two coincide. Both apply to matrices only (ndim >= 2), never to biases or norm gains.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn


class OptimConfig(BaseModel):
    """Optimizer and schedule; `lr` is the peak learning rate after warmup."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: Literal["adamw", "sgd"] = "adamw"
    lr: float = Field(1e-3, gt=0)
    min_lr_frac: float = Field(0.1, ge=0, le=1, description="final lr as a fraction of lr")
    warmup_steps: int = Field(0, ge=0)
    schedule: Literal["cosine", "constant"] = "cosine"
    weight_decay: float = Field(0.0, ge=0)
    l2: float = Field(0.0, ge=0)
    betas: tuple[float, float] = (0.9, 0.95)
    momentum: float = Field(0.9, ge=0, lt=1)

    @model_validator(mode="after")
    def _betas_in_range(self) -> OptimConfig:
        if not all(0 <= b < 1 for b in self.betas):
            raise ValueError(f"betas must lie in [0, 1), got {list(self.betas)}")
        return self


def decayed_params(model: nn.Module) -> list[nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]


def build_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """Two parameter groups: matrices (decayed) and the rest (biases, norm gains, never decayed)."""
    matrices = decayed_params(model)
    ids = {id(p) for p in matrices}
    others = [p for p in model.parameters() if p.requires_grad and id(p) not in ids]
    groups = [
        {"params": matrices, "weight_decay": cfg.weight_decay},
        {"params": others, "weight_decay": 0.0},
    ]
    if cfg.name == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, foreach=True)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, foreach=True)


def lr_at(step: int, total_steps: int, cfg: OptimConfig) -> float:
    """Linear warmup to `lr` over `warmup_steps`, then cosine down to `min_lr_frac * lr`."""
    if cfg.warmup_steps and step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    if cfg.schedule == "constant":
        return cfg.lr
    span = max(1, total_steps - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / span)
    floor = cfg.min_lr_frac * cfg.lr
    return floor + 0.5 * (cfg.lr - floor) * (1 + math.cos(math.pi * progress))


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    for group in optimizer.param_groups:
        group["lr"] = lr


def l2_penalty(model: nn.Module, l2: float) -> torch.Tensor:
    """(l2 / 2) * sum of squared matrix entries; its gradient is l2 * w."""
    return 0.5 * l2 * sum((p * p).sum() for p in decayed_params(model))
