"""A deep MLP whose blocks can be plain, residual, and normalized before or after the sum.

The gradient-flow experiment stacks `depth` of these blocks; `model.blocks` are the layers
the diagnostics measure.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from scalelab.lab.models.init import Activation, InitScheme, init_linear, make_activation

NormPosition = Literal["pre", "post", "none"]
NormKind = Literal["layer", "rms"]


class MLPConfig(BaseModel):
    """Shape and switches of a DeepMLP."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    in_features: int = Field(64, gt=0)
    num_classes: int = Field(10, gt=1)
    width: int = Field(64, gt=0)
    depth: int = Field(50, gt=0, description="number of hidden width x width blocks")
    activation: Activation = "tanh"
    residual: bool = False
    norm: NormPosition = "none"
    norm_kind: NormKind = "layer"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    init: InitScheme = "default"


def make_norm(kind: NormKind, width: int) -> nn.Module:
    return nn.LayerNorm(width) if kind == "layer" else nn.RMSNorm(width)


class MLPBlock(nn.Module):
    """pre: x + f(norm(x)); post: norm(x + f(x)); none: x + f(x). Without residual the sum is dropped."""

    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        self.linear = nn.Linear(cfg.width, cfg.width)
        self.act = make_activation(cfg.activation)
        self.drop = nn.Dropout(cfg.dropout)
        has_norm = cfg.norm != "none"
        self.norm = make_norm(cfg.norm_kind, cfg.width) if has_norm else nn.Identity()
        self.norm_position = cfg.norm
        self.residual = cfg.residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.norm(x) if self.norm_position == "pre" else x
        h = self.drop(self.act(self.linear(h)))
        out = x + h if self.residual else h
        return self.norm(out) if self.norm_position == "post" else out


class DeepMLP(nn.Module):
    """in_features -> width (stem) -> `depth` blocks -> num_classes (head)."""

    def __init__(self, cfg: MLPConfig) -> None:
        super().__init__()
        self.config = cfg
        self.stem = nn.Linear(cfg.in_features, cfg.width)
        self.stem_act = make_activation(cfg.activation)
        self.stem_drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(MLPBlock(cfg) for _ in range(cfg.depth))
        # Pre-norm stacks leave the residual stream unnormalized; normalize once before the head.
        pre = cfg.norm == "pre"
        self.final_norm = make_norm(cfg.norm_kind, cfg.width) if pre else nn.Identity()
        self.head = nn.Linear(cfg.width, cfg.num_classes)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                init_linear(module, cfg.init, cfg.activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem_drop(self.stem_act(self.stem(x)))
        for block in self.blocks:
            h = block(h)
        return self.head(self.final_norm(h))
