"""`scalelab train RUN.toml`: a byte-level transformer language model on a real text corpus.

Ends with validation loss, perplexity (exp of the loss in nats) and a text sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from scalelab.lab.config import RunConfig
from scalelab.lab.data import ByteSplits, load_corpus_bytes, sample_windows
from scalelab.lab.models.transformer import Transformer, flops_per_token
from scalelab.lab.optim import build_optimizer
from scalelab.lab.sample import generate
from scalelab.lab.seeding import seed_everything
from scalelab.lab.step import autocast, autocast_dtype, compute_loss, resolve_device
from scalelab.lab.trainer import Progress, Trainer


@dataclass(frozen=True)
class LMResult:
    """The end of a language-model run; losses in nats per byte."""

    steps: int
    train_loss: float
    val_loss: float
    val_perplexity: float
    best_val_loss: float
    stopped_early: bool
    resumed_from: int | None
    num_params: int
    tokens_per_s: float
    train_flops_per_token: float
    device: str
    sample: str
    out_dir: Path
    gradient_flow: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "out_dir": str(self.out_dir)}


def make_evaluator(
    splits: ByteSplits, cfg: RunConfig, device: torch.device
) -> Callable[[torch.nn.Module], dict[str, float]]:
    """Mean loss over the same `eval_batches` validation windows every time (own generator)."""
    dtype = autocast_dtype(device, cfg.train.precision)

    @torch.no_grad()
    def evaluate(model: torch.nn.Module) -> dict[str, float]:
        model.eval()
        gen = torch.Generator().manual_seed(cfg.train.seed + 1)
        losses = []
        for _ in range(cfg.train.eval_batches):
            x, y = sample_windows(splits.val, cfg.train.batch_size, cfg.model.seq_len, gen)
            with autocast(device, dtype):
                losses.append(compute_loss(model, (x.to(device), y.to(device))).item())
        model.train()
        return {"val/loss": sum(losses) / len(losses)}

    return evaluate


def train_language_model(
    cfg: RunConfig,
    resume: bool = False,
    stop_after: int | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> LMResult:
    """Train (or resume) per `cfg`; writes metrics and checkpoints under cfg.output.dir."""
    data = load_corpus_bytes(cfg.data.corpus, cfg.data.path)
    splits = ByteSplits.from_bytes(data, cfg.data.val_frac, cfg.model.seq_len)
    seed_everything(cfg.train.seed, cfg.train.deterministic)
    device = resolve_device(cfg.train.device)
    model = Transformer(cfg.model).to(device)
    optimizer = build_optimizer(model, cfg.optim)
    batch, seq = cfg.train.batch_size, cfg.model.seq_len
    trainer = Trainer(
        model,
        optimizer,
        cfg.train,
        cfg.optim,
        next_batch=lambda g: sample_windows(splits.train, batch, seq, g),
        evaluate=make_evaluator(splits, cfg, device),
        out_dir=cfg.output.dir,
        tensorboard=cfg.output.tensorboard,
        layers=[(f"block{i}", b) for i, b in enumerate(model.blocks)],
        on_progress=on_progress,
    )
    fit = trainer.fit(resume=resume, stop_after=stop_after)
    steps_run = fit.step - (fit.resumed_from or 0)
    text = generate(
        model,
        cfg.output.sample_prompt.encode(),
        cfg.output.sample_bytes,
        cfg.output.temperature,
        cfg.output.top_k,
        seed=cfg.train.seed,
    )
    flow = fit.gradient_flow
    return LMResult(
        steps=fit.step,
        train_loss=fit.train_loss,
        val_loss=fit.val_loss,
        val_perplexity=math.exp(fit.val_loss) if math.isfinite(fit.val_loss) else math.nan,
        best_val_loss=fit.best_val_loss,
        stopped_early=fit.stopped_early,
        resumed_from=fit.resumed_from,
        num_params=model.num_params(),
        tokens_per_s=steps_run * batch * seq / fit.train_s if fit.train_s > 0 else math.nan,
        train_flops_per_token=flops_per_token(cfg.model),
        device=str(device),
        sample=text.decode("utf-8", errors="replace"),
        out_dir=cfg.output.dir,
        gradient_flow=None if flow is None else flow.__dict__,
    )
