"""The two tasks of the overfitting experiment: digits (MLP) and text (small transformer)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from scalelab.lab.data import ByteSplits, load_corpus_bytes, load_digits_splits, sample_windows
from scalelab.lab.models.mlp import DeepMLP, MLPConfig
from scalelab.lab.models.transformer import Transformer, TransformerConfig

if TYPE_CHECKING:
    from scalelab.lab.experiments.overfitting import OverfittingConfig

TEXT_SEQ_LEN = 32
TEXT_BYTES_PER_EXAMPLE = 40


@dataclass(frozen=True)
class Task:
    model: nn.Module
    next_batch: Callable[[torch.Generator], tuple[torch.Tensor, torch.Tensor]]
    evaluate: Callable[[nn.Module], dict[str, float]]


@torch.no_grad()
def _loss_acc(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    logits = model(x).flatten(0, -2)
    target = y.flatten()
    loss = F.cross_entropy(logits, target).item()
    return loss, (logits.argmax(-1) == target).float().mean().item()


def _evaluator(
    train: tuple[torch.Tensor, torch.Tensor], val: tuple[torch.Tensor, torch.Tensor]
) -> Callable[[nn.Module], dict[str, float]]:
    """Loss and accuracy on fixed train and validation sets, in eval mode (no dropout)."""

    def evaluate(model: nn.Module) -> dict[str, float]:
        model.eval()
        tl, ta = _loss_acc(model, *train)
        vl, va = _loss_acc(model, *val)
        model.train()
        return {"val/loss": vl, "val/acc": va, "eval_train/loss": tl, "eval_train/acc": ta}

    return evaluate


def _digits(cfg: OverfittingConfig, seed: int, dropout: float) -> Task:
    data = load_digits_splits(cfg.num_train, seed)
    mlp = MLPConfig(
        in_features=64,
        num_classes=10,
        width=cfg.width,
        depth=1,
        activation="relu",
        dropout=dropout,
        init="default",
    )
    model = DeepMLP(mlp)
    n, b = len(data.y_train), min(cfg.batch_size, len(data.y_train))

    def next_batch(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.randint(0, n, (b,), generator=g)
        return data.x_train[idx], data.y_train[idx]

    evaluate = _evaluator((data.x_train, data.y_train), (data.x_val, data.y_val))
    return Task(model, next_batch, evaluate)


def _fixed_windows(
    stream: torch.Tensor, count: int, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    return sample_windows(stream, count, TEXT_SEQ_LEN, torch.Generator().manual_seed(seed))


def _text(cfg: OverfittingConfig, seed: int, dropout: float) -> Task:
    corpus = load_corpus_bytes()
    splits = ByteSplits.from_bytes(corpus, 0.1, TEXT_SEQ_LEN)
    # A different slice of the corpus per seed stands in for a different data split.
    train_bytes = cfg.num_train * TEXT_BYTES_PER_EXAMPLE
    start = (seed * train_bytes) % max(1, len(splits.train) - train_bytes)
    train = splits.train[start : start + train_bytes]
    tcfg = TransformerConfig(
        seq_len=TEXT_SEQ_LEN,
        d_model=cfg.width // 4,
        n_layers=2,
        n_heads=4,
        dropout=dropout,
        mlp="gelu",
    )
    model = Transformer(tcfg)

    def next_batch(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return sample_windows(train, cfg.batch_size, TEXT_SEQ_LEN, g)

    evaluate = _evaluator(_fixed_windows(train, 32, seed), _fixed_windows(splits.val, 32, seed))
    return Task(model, next_batch, evaluate)


def make_task(cfg: OverfittingConfig, seed: int, dropout: float) -> Task:
    return _digits(cfg, seed, dropout) if cfg.dataset == "digits" else _text(cfg, seed, dropout)
