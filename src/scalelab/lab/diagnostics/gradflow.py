"""Per-layer gradient norms and activation statistics via hooks, and a vanishing/exploding verdict.

Hooks are attached only on the steps being measured (`arm`) and removed after (`collect`), so
the other steps run the plain model at full speed. Works on any nn.Module: pass its layers.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn


@dataclass(frozen=True)
class LayerRecord:
    """One layer at one step: weight-gradient norm, gradient norm at its output, activations."""

    step: int
    layer: int
    name: str
    grad_norm: float
    output_grad_norm: float
    act_mean: float
    act_std: float
    act_zero_frac: float


class LayerMonitor:
    """Measures each of `layers` (name, module) every `every_n_steps` steps."""

    def __init__(self, layers: Sequence[tuple[str, nn.Module]], every_n_steps: int = 10) -> None:
        if every_n_steps < 1:
            raise ValueError("every_n_steps must be >= 1")
        self.layers = list(layers)
        self.every_n_steps = every_n_steps
        self.records: list[LayerRecord] = []
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        self._step = -1
        # Kept as tensors until `collect`, so a GPU is not synchronized once per layer.
        self._grad_sq: list[list[torch.Tensor]] = []
        self._out_grad_sq: list[list[torch.Tensor]] = []
        self._acts: list[torch.Tensor | None] = []

    def should_measure(self, step: int) -> bool:
        return step % self.every_n_steps == 0

    def arm(self, step: int) -> bool:
        """Attach hooks if `step` is measured; call before the forward pass. Returns whether armed."""
        if not self.should_measure(step):
            return False
        self._step = step
        n = len(self.layers)
        self._grad_sq = [[] for _ in range(n)]
        self._out_grad_sq = [[] for _ in range(n)]
        self._acts = [None] * n
        for i, (_, module) in enumerate(self.layers):
            self._handles.append(module.register_forward_hook(self._forward_hook(i)))
            for p in module.parameters():
                if p.requires_grad:
                    self._handles.append(p.register_post_accumulate_grad_hook(self._grad_hook(i)))
        return True

    def _forward_hook(self, i: int):
        def hook(_module: nn.Module, _inputs: object, output: torch.Tensor) -> None:
            if not isinstance(output, torch.Tensor):
                return
            self._acts[i] = _activation_stats(output.detach())
            if output.requires_grad:
                self._handles.append(output.register_hook(self._output_grad_hook(i)))

        return hook

    def _output_grad_hook(self, i: int):
        def hook(grad: torch.Tensor) -> None:
            self._out_grad_sq[i].append(_sq_norm(grad))

        return hook

    def _grad_hook(self, i: int):
        def hook(param: torch.Tensor) -> None:
            if param.grad is not None:
                self._grad_sq[i].append(_sq_norm(param.grad))

        return hook

    def collect(self) -> list[LayerRecord]:
        """Remove the hooks; call after backward. Returns (and keeps) this step's records."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        if not self._acts:  # never armed
            return []
        # One device-to-host copy for the whole step, not one per layer.
        n = len(self.layers)
        parts = self._grad_sq + self._out_grad_sq
        dev = next((p[0].device for p in parts if p), torch.device("cpu"))
        sums = [torch.stack(p).sum() if p else torch.zeros((), device=dev) for p in parts]
        acts = [
            torch.full((3,), math.nan, device=dev) if a is None else a.to(dev) for a in self._acts
        ]
        values = torch.cat([torch.stack(sums), *acts]).tolist()
        new = []
        for i, (name, _) in enumerate(self.layers):
            mean, std, zero = values[2 * n + 3 * i : 2 * n + 3 * i + 3]
            grad_norm, out_norm = math.sqrt(values[i]), math.sqrt(values[n + i])
            new.append(LayerRecord(self._step, i, name, grad_norm, out_norm, mean, std, zero))
        self._acts = []
        self.records.extend(new)
        return new

    def grad_norms_by_step(self) -> dict[int, list[float]]:
        out: dict[int, list[float]] = {}
        for r in self.records:
            out.setdefault(r.step, []).append(r.grad_norm)
        return out


def _activation_stats(act: torch.Tensor) -> torch.Tensor:
    """(mean, std, zero fraction) from one sum and one norm: torch.std_mean's two passes cost
    several times more, and these statistics need no better than float32 accuracy."""
    flat = act.reshape(-1).float()
    n = flat.numel()
    mean = flat.sum() / n
    var = (torch.linalg.vector_norm(flat).square() / n - mean.square()).clamp_min(0)
    zero_frac = 1 - torch.count_nonzero(flat) / n
    return torch.stack([mean, var.sqrt(), zero_frac])


def _sq_norm(t: torch.Tensor) -> torch.Tensor:
    return torch.linalg.vector_norm(t.detach(), dtype=torch.float32).square()


Verdict = Literal["healthy", "vanishing", "exploding"]


@dataclass(frozen=True)
class GradientFlowVerdict:
    """first/last weight-gradient-norm ratio per measured step; healthy within `threshold_ratio`x."""

    verdict: Verdict
    first_to_last_ratio: float
    first_to_last_ratio_at_start: float
    ratio_by_step: dict[int, float] = field(default_factory=dict)
    threshold_ratio: float = 10.0


def first_to_last_ratio(grad_norm_by_layer: Sequence[float]) -> float:
    """Gradient norm of the first layer over that of the last (0 when the first has none at all)."""
    first, last = grad_norm_by_layer[0], grad_norm_by_layer[-1]
    if last == 0:
        return math.inf if first > 0 else math.nan
    return first / last


def judge_gradient_flow(
    grad_norms_by_step: dict[int, list[float]], threshold_ratio: float = 10.0
) -> GradientFlowVerdict:
    """The verdict uses the median ratio over the measured steps, so one noisy step cannot flip it."""
    if not grad_norms_by_step:
        raise ValueError("no gradient norms were recorded")
    ratios = {s: first_to_last_ratio(g) for s, g in sorted(grad_norms_by_step.items())}
    finite = [r for r in ratios.values() if not math.isnan(r)]
    median = statistics.median(finite) if finite else math.nan
    if math.isnan(median) or median < 1 / threshold_ratio:
        verdict: Verdict = "vanishing"
    elif median > threshold_ratio:
        verdict = "exploding"
    else:
        verdict = "healthy"
    first_step = min(ratios)
    return GradientFlowVerdict(verdict, median, ratios[first_step], ratios, threshold_ratio)
