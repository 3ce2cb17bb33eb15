"""The training loop around `train_step`: schedule, logging (CSV/TensorBoard), evaluation with
early stopping, diagnostics hooks every N steps, and checkpoints that resume bit-exactly on CPU.
One writer per output folder (`lab/runlock.py`); a non-finite loss, gradient norm or weight stops
the run before a checkpoint is written, so `latest` always names finite weights.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from scalelab.core.errors import CheckpointError, ConfigError, ScalelabError
from scalelab.lab.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from scalelab.lab.diagnostics.gradflow import (
    GradientFlowVerdict,
    LayerMonitor,
    LayerRecord,
    judge_gradient_flow,
)
from scalelab.lab.diagnostics.overfit import EarlyStopping
from scalelab.lab.metrics import MetricsWriter
from scalelab.lab.optim import OptimConfig, lr_at, set_lr
from scalelab.lab.runlock import RunLock
from scalelab.lab.seeding import capture_rng_state, restore_rng_state
from scalelab.lab.step import Batch, autocast_dtype, train_step


class DivergenceError(ScalelabError):
    """The loss (or the gradient norm, or a weight) became NaN or infinite."""


class TrainConfig(BaseModel):
    """How long and how to train; `*_every` counts optimizer steps, 0 switches a feature off."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    steps: int = Field(300, gt=0)
    batch_size: int = Field(16, gt=0)
    seed: int = 0
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    clip_grad_norm: float | None = Field(1.0, gt=0)
    deterministic: bool = True
    log_every: int = Field(10, gt=0)
    eval_every: int = Field(100, ge=0)
    eval_batches: int = Field(10, gt=0)
    checkpoint_every: int = Field(0, ge=0)
    early_stopping_patience: int = Field(0, ge=0, description="evaluations without improvement")
    diagnostics_every: int = Field(50, ge=0)


@dataclass(frozen=True)
class Progress:
    """Handed to the progress callback after every step."""

    step: int
    total_steps: int
    train_loss: float
    val_loss: float | None


@dataclass
class FitResult:
    """What a (possibly resumed) run ended with."""

    step: int
    train_loss: float
    val_loss: float
    best_val_loss: float
    best_step: int
    stopped_early: bool
    resumed_from: int | None
    train_s: float
    gradient_flow: GradientFlowVerdict | None = None
    grad_norm_by_layer: dict[int, list[float]] = field(default_factory=dict)


class Trainer:
    """Runs `cfg.steps` calls of `train_step` on batches drawn by `next_batch(generator)`.

    `evaluate(model)` returns metrics including "val/loss"; `layers` (name, module) are watched by the
    gradient-flow diagnostics; `out_dir` receives metrics.csv, tensorboard/ and checkpoints/.
    """

    def __init__(
        self,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        cfg: TrainConfig,
        optim_cfg: OptimConfig,
        next_batch: Callable[[torch.Generator], Batch],
        evaluate: Callable[[nn.Module], dict[str, float]] | None = None,
        out_dir: Path | None = None,
        tensorboard: bool = False,
        layers: Sequence[tuple[str, nn.Module]] = (),
        on_progress: Callable[[Progress], None] | None = None,
    ) -> None:
        self.model, self.optimizer, self.cfg, self.optim_cfg = model, optimizer, cfg, optim_cfg
        self.next_batch, self.evaluate, self.on_progress = next_batch, evaluate, on_progress
        self.out_dir, self.tensorboard = out_dir, tensorboard
        self.device = next(model.parameters()).device
        self.dtype = autocast_dtype(self.device, cfg.precision)
        # Batches are drawn on the CPU from their own generator, so the device never changes them.
        self.generator = torch.Generator().manual_seed(cfg.seed)
        watch = layers and cfg.diagnostics_every
        self.monitor = LayerMonitor(layers, cfg.diagnostics_every) if watch else None
        self.stopper = EarlyStopping(cfg.early_stopping_patience)
        self.train_loss = math.nan
        self.val_loss = math.nan
        self._metrics: MetricsWriter | None = None
        self.history: list[tuple[int, str, float]] = []
        # Device-side: no host sync per step; read when logging or before a checkpoint.
        self._finite = torch.ones((), dtype=torch.bool, device=self.device)
        self._last_lr = optim_cfg.lr

    @property
    def checkpoint_dir(self) -> Path | None:
        return None if self.out_dir is None else self.out_dir / "checkpoints"

    def _restore(self) -> int:
        ckpt_root = self.checkpoint_dir
        path = latest_checkpoint(ckpt_root) if ckpt_root else None
        if path is None:
            raise CheckpointError(f"nothing to resume: no checkpoint under {ckpt_root}")
        rng, state = load_checkpoint(path, self.model, self.optimizer)
        try:
            restore_rng_state(rng, self.generator)
            self.stopper.load_state_dict(state["early_stopping"])
            self.train_loss, self.val_loss = float(state["train_loss"]), float(state["val_loss"])
            return int(state["step"])
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise CheckpointError(f"{path}: trainer state is damaged ({exc!r:.200})") from None

    def _check_fresh(self) -> None:
        root = self.checkpoint_dir
        if root is not None and latest_checkpoint(root) is not None:
            raise ConfigError(
                f"{self.out_dir} already holds checkpoints; pass --resume to continue "
                "or choose another output.dir"
            )

    def _save(self, step: int) -> None:
        if self.checkpoint_dir is None:
            return
        state = {
            "early_stopping": self.stopper.state_dict(),
            "train_loss": self.train_loss,
            "val_loss": self.val_loss,
        }
        rng = capture_rng_state(self.generator)
        save_checkpoint(self.checkpoint_dir, step, self.model, self.optimizer, rng, state)

    def _step(self, step: int) -> None:
        lr = lr_at(step, self.cfg.steps, self.optim_cfg)
        set_lr(self.optimizer, lr)
        x, y = self.next_batch(self.generator)
        batch = (x.to(self.device, non_blocking=True), y.to(self.device, non_blocking=True))
        armed = self.monitor is not None and self.monitor.arm(step)
        out = train_step(
            self.model,
            batch,
            self.optimizer,
            clip_grad_norm=self.cfg.clip_grad_norm,
            dtype=self.dtype,
            l2=self.optim_cfg.l2,
        )
        self._last_lr = lr
        self._finite &= torch.isfinite(out.loss.detach())
        if out.grad_norm is not None:
            self._finite &= torch.isfinite(out.grad_norm.detach())
        # Rows are keyed by optimizer steps done (step + 1), like evaluations and checkpoints, so
        # a resume from checkpoint N keeps exactly the rows with step <= N.
        if armed and self.monitor is not None:
            self._log_layers(step + 1, self.monitor.collect())
        if step % self.cfg.log_every == 0 or step == self.cfg.steps - 1:
            self.train_loss = out.loss.item()
            values = {"train/loss": self.train_loss, "train/lr": lr}
            if out.grad_norm is not None:
                values["train/grad_norm"] = out.grad_norm.item()
            self._log(step + 1, values)
            self._check_finite(step + 1)

    @torch.no_grad()
    def _check_finite(self, done: int, weights: bool = False) -> None:
        """Raise DivergenceError if a loss or gradient norm since the start (or, with `weights`,
        a parameter) is not finite."""
        ok = bool(self._finite)
        if ok and weights:
            ok = all(bool(torch.isfinite(p).all()) for p in self.model.parameters())
        if ok:
            return
        root = self.checkpoint_dir
        last = latest_checkpoint(root) if root is not None else None
        kept = f"{last} stays the latest checkpoint" if last else "no checkpoint was written"
        raise DivergenceError(
            f"training diverged: a non-finite loss or gradient by step {done} (last logged "
            f"loss {self.train_loss:.4g}, lr {self._last_lr:.3g}); stopped before writing a "
            f"checkpoint, {kept}; "
            "lower optim.lr or set train.clip_grad_norm"
        )

    def _log(self, step: int, values: dict[str, float]) -> None:
        self.history.extend((step, k, float(v)) for k, v in values.items())
        if self._metrics is not None:
            self._metrics.log(step, values)

    def _log_layers(self, step: int, records: list[LayerRecord]) -> None:
        values = {}
        for r in records:
            values[f"layer/grad_norm/{r.layer:03d}"] = r.grad_norm
            values[f"layer/act_std/{r.layer:03d}"] = r.act_std
        self._log(step, values)

    def _eval_due(self, done: int) -> bool:
        every = self.cfg.eval_every
        # The true end, not `end`: an interrupted run must not evaluate where a whole run would not.
        return self.evaluate is not None and (
            (every and done % every == 0) or done == self.cfg.steps
        )

    def _after_step(self, done: int, end: int) -> bool:
        """Evaluate and checkpoint when due; True when early stopping says stop."""
        stop = False
        if self._eval_due(done) and self.evaluate is not None:
            values = self.evaluate(self.model)
            self.val_loss = values["val/loss"]
            self._log(done, values)
            stop = self.stopper.update(done, self.val_loss)
        every = self.cfg.checkpoint_every
        if (every and done % every == 0) or done == end or stop:
            self._check_finite(done, weights=True)
            self._save(done)
        if self.on_progress is not None:
            val = None if math.isnan(self.val_loss) else self.val_loss
            self.on_progress(Progress(done, self.cfg.steps, self.train_loss, val))
        return stop

    def fit(self, resume: bool = False, stop_after: int | None = None) -> FitResult:
        """Train to `cfg.steps` (or to `stop_after`, as if interrupted there); `resume` continues
        from the latest checkpoint and raises CheckpointError if it is missing or damaged.
        Holds OUT/.lock throughout: a second writer to the same folder is refused."""
        lock = RunLock(self.out_dir).acquire() if self.out_dir is not None else None
        try:
            return self._fit(resume, stop_after)
        finally:
            if lock is not None:
                lock.release()

    def _fit(self, resume: bool, stop_after: int | None) -> FitResult:
        start = self._restore() if resume else 0
        if not resume:
            self._check_fresh()
        end = min(self.cfg.steps, stop_after or self.cfg.steps)
        if self.out_dir is not None:
            self._metrics = MetricsWriter(self.out_dir, self.tensorboard, start if resume else None)
        stopped, train_s, steps_run = False, 0.0, 0
        try:
            for step in range(start, end):
                t0 = time.perf_counter()
                self._step(step)
                train_s += time.perf_counter() - t0  # evaluation and checkpoints excluded
                steps_run += 1
                if self._after_step(step + 1, end):
                    stopped = True
                    break
        finally:
            if self._metrics is not None:
                self._metrics.close()
        return self._result(start + steps_run, resume and start or None, stopped, train_s)

    def _result(
        self, step: int, resumed_from: int | None, stopped: bool, train_s: float
    ) -> FitResult:
        norms = self.monitor.grad_norms_by_step() if self.monitor else {}
        return FitResult(
            step=step,
            train_loss=self.train_loss,
            val_loss=self.val_loss,
            best_val_loss=self.stopper.best_loss,
            best_step=self.stopper.best_step,
            stopped_early=stopped,
            resumed_from=resumed_from,
            train_s=train_s,
            gradient_flow=judge_gradient_flow(norms) if norms else None,
            grad_norm_by_layer=norms,
        )
