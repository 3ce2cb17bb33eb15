"""Does the gradient reach the first layer? A deep MLP (digits) or transformer (text), measured.

Trains a few steps and records every block's weight-gradient norm at initialization and every
`every` steps; the ratio first/last says whether the stack vanishes, explodes or stays healthy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from scalelab.lab.data import ByteSplits, load_corpus_bytes, load_digits_splits, sample_windows
from scalelab.lab.models.init import Activation, InitScheme
from scalelab.lab.models.mlp import DeepMLP, MLPConfig, NormPosition
from scalelab.lab.models.transformer import Transformer, TransformerConfig
from scalelab.lab.optim import OptimConfig, build_optimizer
from scalelab.lab.seeding import cpu_threads, seed_everything
from scalelab.lab.trainer import Progress, TrainConfig, Trainer


class GradientFlowConfig(BaseModel):
    """One configuration of the experiment; the defaults are the plain 50-layer tanh MLP."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    model: Literal["mlp", "transformer"] = "mlp"
    depth: int = Field(50, gt=1)
    width: int = Field(64, gt=0)
    activation: Activation = "tanh"
    init: InitScheme = "default"
    residual: bool = False
    norm: NormPosition = "none"
    steps: int = Field(20, gt=0)
    every: int = Field(5, gt=0)
    batch_size: int = Field(128, gt=0)
    lr: float = Field(1e-3, gt=0)
    seed: int = 0
    threshold_ratio: float = Field(10.0, gt=1)

    def label(self) -> str:
        skip = "residual" if self.residual else "plain"
        norm = "" if self.norm == "none" else f"+{self.norm}-norm"
        if self.model == "transformer":
            return f"{skip}{norm} transformer, {self.init} init"
        return f"{skip}{norm} {self.activation}, {self.init} init"


@dataclass(frozen=True)
class GradientFlowResult:
    """Gradient norms per block (block 1 nearest the input), ratios and the verdict."""

    config: dict[str, Any]
    label: str
    grad_norm_by_layer: list[float]
    grad_norm_by_layer_by_step: dict[int, list[float]]
    first_to_last_ratio: float
    first_to_last_ratio_at_init: float
    ratio_by_step: dict[int, float]
    verdict: str
    activation_std_by_layer: list[float]
    train_loss_first: float
    train_loss_last: float
    wall_s: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _mlp_task(cfg: GradientFlowConfig) -> tuple[nn.Module, Callable[[torch.Generator], Any]]:
    data = load_digits_splits(num_train=1500, seed=cfg.seed, standardize=True)
    model = DeepMLP(
        MLPConfig(
            in_features=64,
            num_classes=10,
            width=cfg.width,
            depth=cfg.depth,
            activation=cfg.activation,
            residual=cfg.residual,
            norm=cfg.norm,
            init=cfg.init,
        )
    )

    def next_batch(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, len(data.y_train), (cfg.batch_size,), generator=g)
        return data.x_train[idx], data.y_train[idx]

    return model, next_batch


def _transformer_task(
    cfg: GradientFlowConfig,
) -> tuple[nn.Module, Callable[[torch.Generator], Any]]:
    seq_len = 32
    splits = ByteSplits.from_bytes(load_corpus_bytes(), 0.1, seq_len)
    model = Transformer(
        TransformerConfig(
            seq_len=seq_len,
            d_model=cfg.width,
            n_layers=cfg.depth,
            n_heads=4,
            norm_position=cfg.norm,
            residual=cfg.residual,
            init=cfg.init,
            mlp="gelu",
        )
    )
    batch = max(1, cfg.batch_size // seq_len)
    return model, lambda g: sample_windows(splits.train, batch, seq_len, g)


def run_gradient_flow(
    cfg: GradientFlowConfig, on_progress: Callable[[Progress], None] | None = None
) -> GradientFlowResult:
    """Train `cfg.steps` steps of AdamW at a constant lr, measuring every `cfg.every` steps."""
    with cpu_threads(1):
        return _run(cfg, on_progress)


def _run(
    cfg: GradientFlowConfig, on_progress: Callable[[Progress], None] | None
) -> GradientFlowResult:
    t0 = time.perf_counter()
    seed_everything(cfg.seed)
    model, next_batch = _mlp_task(cfg) if cfg.model == "mlp" else _transformer_task(cfg)
    optim = OptimConfig(lr=cfg.lr, schedule="constant")
    # No clipping: it would hide exactly the explosion this experiment is looking for.
    train = TrainConfig(
        steps=cfg.steps,
        batch_size=cfg.batch_size,
        seed=cfg.seed,
        device="cpu",
        precision="fp32",
        clip_grad_norm=None,
        log_every=1,
        eval_every=0,
        diagnostics_every=cfg.every,
    )
    layers = [(f"block{i + 1}", b) for i, b in enumerate(model.blocks)]
    trainer = Trainer(
        model,
        build_optimizer(model, optim),
        train,
        optim,
        next_batch,
        layers=layers,
        on_progress=on_progress,
    )
    fit = trainer.fit()
    assert fit.gradient_flow is not None and trainer.monitor is not None
    flow = fit.gradient_flow
    losses = [v for _, name, v in trainer.history if name == "train/loss"]
    first_step = min(fit.grad_norm_by_layer)
    acts = [r.act_std for r in trainer.monitor.records if r.step == first_step]
    return GradientFlowResult(
        config=cfg.model_dump(),
        label=cfg.label(),
        grad_norm_by_layer=fit.grad_norm_by_layer[first_step],
        grad_norm_by_layer_by_step=fit.grad_norm_by_layer,
        first_to_last_ratio=flow.first_to_last_ratio,
        first_to_last_ratio_at_init=flow.first_to_last_ratio_at_start,
        ratio_by_step=flow.ratio_by_step,
        verdict=flow.verdict,
        activation_std_by_layer=acts,
        train_loss_first=losses[0],
        train_loss_last=losses[-1],
        wall_s=time.perf_counter() - t0,
    )


# The comparison `diagnose gradient-flow --compare` and the report run: what vanishes, what cures it.
STANDARD_COMPARISON: tuple[dict[str, Any], ...] = (
    {"activation": "tanh", "init": "default"},
    {"activation": "relu", "init": "default"},
    {"activation": "relu", "init": "kaiming"},
    {"activation": "tanh", "init": "default", "residual": True},
    {"activation": "tanh", "init": "default", "residual": True, "norm": "pre"},
    {"activation": "tanh", "init": "default", "residual": True, "norm": "post"},
)


def compare_gradient_flow(
    base: GradientFlowConfig,
    variants: tuple[dict[str, Any], ...] = STANDARD_COMPARISON,
    on_run: Callable[[str], None] | None = None,
) -> list[GradientFlowResult]:
    """Run `base` once per variant (each variant overrides a few fields of `base`)."""
    results = []
    for variant in variants:
        cfg = base.model_copy(update=variant)
        results.append(run_gradient_flow(cfg))
        if on_run is not None:
            on_run(cfg.label())
    return results
