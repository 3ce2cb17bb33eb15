"""Memorize or generalize? The train/validation gap without regularization and with dropout,
decoupled weight decay (AdamW) or explicit L2, each over several seeds, plus early stopping.

digits: an MLP on 100 of scikit-learn's 8x8 digits; text: a small transformer on 4 KB of the
shipped corpus. Gaps are validation minus train loss (nats) and train minus val accuracy.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from scalelab.lab.diagnostics.overfit import Gap
from scalelab.lab.experiments.overfitting_tasks import Task, make_task
from scalelab.lab.optim import OptimConfig, build_optimizer
from scalelab.lab.seeding import cpu_threads, seed_everything
from scalelab.lab.trainer import TrainConfig, Trainer

Regime = Literal["none", "dropout", "weight_decay", "l2"]
REGIMES: tuple[Regime, ...] = ("none", "dropout", "weight_decay", "l2")


class OverfittingConfig(BaseModel):
    """The experiment; regularizer strengths apply one at a time, never combined."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    dataset: Literal["digits", "text"] = "digits"
    seeds: int = Field(3, gt=0)
    num_train: int = Field(100, gt=0, description="digits: images; text: bytes x 40")
    steps: int = Field(1000, gt=0)
    eval_every: int = Field(50, gt=0)
    width: int = Field(256, gt=0)
    batch_size: int = Field(20, gt=0)
    lr: float = Field(1e-3, gt=0)
    dropout: float = Field(0.5, gt=0, lt=1)
    weight_decay: float = Field(1.0, gt=0)
    l2: float = Field(2e-3, gt=0)
    regimes: tuple[Regime, ...] = REGIMES

    def setting(self, regime: Regime) -> str:
        return {
            "none": "no regularization",
            "dropout": f"dropout p={self.dropout:g}",
            "weight_decay": f"AdamW weight_decay={self.weight_decay:g}",
            "l2": f"explicit L2 ({self.l2:g}/2)*|w|^2",
        }[regime]


@dataclass(frozen=True, kw_only=True)
class SeedRun(Gap):
    """One seed of one regime: the gap at the end of training and the early-stopping point."""

    seed: int
    best_step: int
    val_loss_at_best: float
    loss_gap_at_best: float
    curve: list[tuple[int, float, float]]


@dataclass(frozen=True)
class RegimeSummary:
    """Means (and the loss gap's standard deviation) over seeds."""

    regime: str
    setting: str
    loss_gap_mean: float
    loss_gap_std: float
    acc_gap_mean_frac: float
    train_acc_mean_frac: float
    val_acc_mean_frac: float
    val_loss_mean: float
    best_step_mean: float
    loss_gap_at_best_mean: float
    val_loss_at_best_mean: float
    seeds: list[dict[str, Any]]


@dataclass(frozen=True)
class OverfittingResult:
    config: dict[str, Any]
    regimes: list[RegimeSummary]
    wall_s: float

    def by_regime(self) -> dict[str, RegimeSummary]:
        return {r.regime: r for r in self.regimes}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _run_seed(cfg: OverfittingConfig, regime: Regime, seed: int) -> SeedRun:
    seed_everything(seed)
    task: Task = make_task(cfg, seed, dropout=cfg.dropout if regime == "dropout" else 0.0)
    optim = OptimConfig(
        lr=cfg.lr,
        schedule="constant",
        weight_decay=cfg.weight_decay if regime == "weight_decay" else 0.0,
        l2=cfg.l2 if regime == "l2" else 0.0,
    )
    train = TrainConfig(
        steps=cfg.steps,
        batch_size=cfg.batch_size,
        seed=seed,
        device="cpu",
        precision="fp32",
        clip_grad_norm=None,
        log_every=cfg.steps,
        eval_every=cfg.eval_every,
    )
    trainer = Trainer(
        task.model,
        build_optimizer(task.model, optim),
        train,
        optim,
        task.next_batch,
        evaluate=task.evaluate,
    )
    fit = trainer.fit()
    evals: dict[int, dict[str, float]] = {}
    for step, name, value in trainer.history:
        if name.startswith(("val/", "eval_train/")):
            evals.setdefault(step, {})[name] = value
    curve = [(s, e["eval_train/loss"], e["val/loss"]) for s, e in sorted(evals.items())]
    last, best = evals[fit.step], evals[fit.best_step]
    return SeedRun(
        seed=seed,
        train_loss=last["eval_train/loss"],
        val_loss=last["val/loss"],
        train_acc_frac=last["eval_train/acc"],
        val_acc_frac=last["val/acc"],
        best_step=fit.best_step,
        val_loss_at_best=best["val/loss"],
        loss_gap_at_best=best["val/loss"] - best["eval_train/loss"],
        curve=curve,
    )


def _summarize(cfg: OverfittingConfig, regime: Regime, runs: list[SeedRun]) -> RegimeSummary:
    def mean(f: Callable[[SeedRun], float]) -> float:
        return statistics.fmean(f(r) for r in runs)

    gaps = [r.loss_gap for r in runs]
    return RegimeSummary(
        regime=regime,
        setting=cfg.setting(regime),
        loss_gap_mean=statistics.fmean(gaps),
        loss_gap_std=statistics.stdev(gaps) if len(gaps) > 1 else 0.0,
        acc_gap_mean_frac=mean(lambda r: r.acc_gap_frac),
        train_acc_mean_frac=mean(lambda r: r.train_acc_frac),
        val_acc_mean_frac=mean(lambda r: r.val_acc_frac),
        val_loss_mean=mean(lambda r: r.val_loss),
        best_step_mean=mean(lambda r: r.best_step),
        loss_gap_at_best_mean=mean(lambda r: r.loss_gap_at_best),
        val_loss_at_best_mean=mean(lambda r: r.val_loss_at_best),
        seeds=[{**asdict(r), "loss_gap": r.loss_gap, "acc_gap_frac": r.acc_gap_frac} for r in runs],
    )


def run_overfitting(
    cfg: OverfittingConfig, on_run: Callable[[str], None] | None = None
) -> OverfittingResult:
    """Every regime over seeds 0..seeds-1; seed k shares its data split and init across regimes."""
    t0 = time.perf_counter()
    summaries = []
    with cpu_threads(1):
        for regime in cfg.regimes:
            runs = []
            for seed in range(cfg.seeds):
                runs.append(_run_seed(cfg, regime, seed))
                if on_run is not None:
                    on_run(f"{regime} seed {seed}")
            summaries.append(_summarize(cfg, regime, runs))
    return OverfittingResult(cfg.model_dump(), summaries, time.perf_counter() - t0)
