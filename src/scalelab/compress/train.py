"""Training the classifier, alone or distilled from a teacher.

Distillation loss (Hinton, Vinyals & Dean 2015, sec. 2): (1 - alpha) CE(student, labels)
+ alpha T^2 KL(softmax(teacher/T) || softmax(student/T)); the T^2 keeps the soft-target
gradients on the same scale as the hard ones. Optional hidden-state matching adds
beta MSE(W h_student, h_teacher) on the pooled sentence vectors (FitNets, Romero et al. 2015).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field
from torch import nn

from scalelab.compress.models import EncoderClassifier, EncoderConfig
from scalelab.compress.text import Split, TextTask
from scalelab.lab.seeding import cpu_threads, seed_everything


class TrainSettings(BaseModel):
    """Optimizer and schedule; AdamW with linear warm-up (first 10% of steps) then linear decay."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    epochs: int = Field(8, gt=0)
    batch_size: int = Field(32, gt=0)
    lr: float = Field(1e-3, gt=0)
    weight_decay: float = Field(0.01, ge=0)
    seed: int = 0
    threads: int = Field(
        1, gt=0, description="torch intra-op threads while training (1: steady on a shared machine)"
    )


class DistillSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    temperature: float = Field(4.0, gt=0)
    alpha: float = Field(0.7, ge=0, le=1, description="weight of the soft-target term")
    hidden_weight: float = Field(0.0, ge=0, description="beta of the pooled hidden-state MSE")


@dataclass(frozen=True)
class TrainResult:
    model: EncoderClassifier
    optimizer: torch.optim.Optimizer
    steps: int
    train_loss: float
    test_accuracy_frac: float
    train_s: float


@torch.no_grad()
def predict_logits(model: nn.Module, ids: torch.Tensor, batch_size: int = 128) -> torch.Tensor:
    model.eval()
    return torch.cat([model(ids[i : i + batch_size]) for i in range(0, len(ids), batch_size)])


def accuracy(logits: torch.Tensor | object, labels: torch.Tensor) -> float:
    pred = torch.as_tensor(logits).argmax(-1)
    return float((pred == labels).float().mean())


def _lr_at(step: int, total: int, lr: float) -> float:
    warm = max(1, total // 10)
    return lr * (step + 1) / warm if step < warm else lr * max(0.0, (total - step) / (total - warm))


def distill_loss(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
    d: DistillSettings,
) -> torch.Tensor:  # fmt: skip
    """Hinton et al. 2015, sec. 2: hard CE plus T^2-scaled KL to the teacher's softened outputs."""
    t = d.temperature
    soft = F.kl_div(
        F.log_softmax(student_logits / t, -1), F.log_softmax(teacher_logits / t, -1),
        reduction="batchmean", log_target=True,
    )  # fmt: skip
    return (1 - d.alpha) * F.cross_entropy(student_logits, labels) + d.alpha * t * t * soft


def train_classifier(
    cfg: EncoderConfig,
    task: TextTask,
    settings: TrainSettings,
    teacher: EncoderClassifier | None = None,
    distill: DistillSettings | None = None,
    on_epoch: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train `cfg` on `task.train` (with `teacher`: by distillation); accuracy on `task.test`."""
    with cpu_threads(settings.threads):
        seed_everything(settings.seed, deterministic=False)
        model = EncoderClassifier(cfg)
        match = _hidden_projection(model, teacher, distill)
        params = list(model.parameters()) + (list(match.parameters()) if match else [])
        opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=settings.weight_decay)
        teacher_logits, teacher_feats = _teacher_outputs(teacher, task.train, match is not None)
        gen = torch.Generator().manual_seed(settings.seed)
        n, bs = len(task.train), settings.batch_size
        per_epoch = (n + bs - 1) // bs
        total, step, loss_value, start = (
            settings.epochs * per_epoch,
            0,
            float("nan"),
            time.perf_counter(),
        )
        for epoch in range(settings.epochs):
            model.train()
            order = torch.randperm(n, generator=gen)
            for i in range(0, n, bs):
                idx = order[i : i + bs]
                for group in opt.param_groups:
                    group["lr"] = _lr_at(step, total, settings.lr)
                loss = _batch_loss(
                    model, match, task.train, idx, teacher_logits, teacher_feats, distill
                )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, 1.0)
                opt.step()
                step, loss_value = step + 1, loss.item()
            if on_epoch is not None:
                on_epoch(epoch + 1, loss_value)
        train_s = time.perf_counter() - start
        acc = accuracy(predict_logits(model, task.test.ids), task.test.labels)
    return TrainResult(model.eval(), opt, step, loss_value, acc, train_s)


def _hidden_projection(
    student: EncoderClassifier, teacher: EncoderClassifier | None, d: DistillSettings | None
) -> nn.Linear | None:
    if teacher is None or d is None or d.hidden_weight == 0:
        return None
    return nn.Linear(student.config.d_model, teacher.config.d_model, bias=False)


@torch.no_grad()
def _teacher_outputs(
    teacher: EncoderClassifier | None, split: Split, with_features: bool
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """The teacher's logits (and pooled features) on every training example, computed once."""
    if teacher is None:
        return None, None
    teacher.eval()
    chunks = [teacher.features(split.ids[i : i + 128]) for i in range(0, len(split), 128)]
    feats = torch.cat(chunks)
    return teacher.head(feats), feats if with_features else None


def _batch_loss(
    model: EncoderClassifier, match: nn.Linear | None, split: Split, idx: torch.Tensor,
    teacher_logits: torch.Tensor | None, teacher_feats: torch.Tensor | None,
    distill: DistillSettings | None,
) -> torch.Tensor:  # fmt: skip
    ids, labels = split.ids[idx], split.labels[idx]
    feats = model.features(ids)
    logits = model.head(feats)
    if teacher_logits is None or distill is None:
        return F.cross_entropy(logits, labels)
    loss = distill_loss(logits, teacher_logits[idx], labels, distill)
    if match is not None and teacher_feats is not None:
        loss = loss + distill.hidden_weight * F.mse_loss(match(feats), teacher_feats[idx])
    return loss
