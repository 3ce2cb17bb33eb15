"""Overfitting: the train/validation gap, and early stopping on the validation loss."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Gap:
    """Generalization gap at one point of training (losses in nats, accuracies as fractions)."""

    train_loss: float
    val_loss: float
    train_acc_frac: float = math.nan
    val_acc_frac: float = math.nan

    @property
    def loss_gap(self) -> float:
        return self.val_loss - self.train_loss

    @property
    def acc_gap_frac(self) -> float:
        return self.train_acc_frac - self.val_acc_frac


class EarlyStopping:
    """Stop after `patience` evaluations without a new best validation loss (0 = never stop)."""

    def __init__(self, patience: int = 0, min_delta: float = 0.0) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = math.inf
        self.best_step = -1
        self.bad_evals = 0

    def update(self, step: int, val_loss: float) -> bool:
        """Record an evaluation; True when training should stop."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_step, self.bad_evals = val_loss, step, 0
        else:
            self.bad_evals += 1
        return self.patience > 0 and self.bad_evals >= self.patience

    def state_dict(self) -> dict[str, Any]:
        best = self.best_loss if math.isfinite(self.best_loss) else None
        return {"best_loss": best, "best_step": self.best_step, "bad_evals": self.bad_evals}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        best = state["best_loss"]
        self.best_loss = math.inf if best is None else float(best)
        self.best_step, self.bad_evals = int(state["best_step"]), int(state["bad_evals"])
