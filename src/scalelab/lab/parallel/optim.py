"""The optimizer and gradient clipping over parameters that may be DTensors on different meshes.

Same groups and hyper-parameters as `scalelab.lab.optim.build_optimizer` (matrices decayed,
the rest not), further split so each group holds one kind of tensor: foreach kernels refuse
to mix plain tensors with DTensors, or DTensors on different meshes.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.tensor import DTensor, Replicate

from scalelab.lab.optim import OptimConfig


def _kind(p: torch.Tensor) -> str:
    if isinstance(p, DTensor):
        return f"dtensor{p.device_mesh.mesh_dim_names}{tuple(p.device_mesh.mesh.shape)}"
    return "tensor"


def _split_by_kind(params: Iterable[nn.Parameter]) -> dict[str, list[nn.Parameter]]:
    groups: dict[str, list[nn.Parameter]] = {}
    for p in params:
        groups.setdefault(_kind(p), []).append(p)
    return groups


def build_dist_optimizer(model: nn.Module, cfg: OptimConfig) -> torch.optim.Optimizer:
    """AdamW or SGD over `model`'s parameters, grouped by (decayed?, tensor kind)."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = []
    for decay in (True, False):
        chosen = [p for p in params if (p.ndim >= 2) == decay]
        for same_kind in _split_by_kind(chosen).values():
            wd = cfg.weight_decay if decay else 0.0
            groups.append({"params": same_kind, "weight_decay": wd})
    if cfg.name == "adamw":
        return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, foreach=True)
    return torch.optim.SGD(groups, lr=cfg.lr, momentum=cfg.momentum, foreach=True)


def _without_partial(grad: torch.Tensor) -> torch.Tensor:
    """Sum pending partial placements (e.g. norm weights under sequence parallelism, whose
    gradient is a per-shard sum until reduced) so the local pieces are true values."""
    if not isinstance(grad, DTensor) or not any(p.is_partial() for p in grad.placements):
        return grad
    placements = [Replicate() if p.is_partial() else p for p in grad.placements]
    return grad.redistribute(grad.device_mesh, placements)


def _replicas(grad: torch.Tensor, stage_size: int) -> int:
    """How many ranks of one pipeline stage hold this exact piece of the gradient."""
    if not isinstance(grad, DTensor):
        return stage_size
    shards = 1
    for size, placement in zip(grad.device_mesh.mesh.shape, grad.placements, strict=True):
        if placement.is_shard() or type(placement).__name__ == "_StridedShard":
            shards *= int(size)
    return stage_size // shards


@torch.no_grad()
def total_grad_norm(
    params: list[nn.Parameter], stage_size: int = 1, exclude: set[int] | None = None
) -> torch.Tensor:
    """The 2-norm of the whole model's gradient with one all-reduce over the job: each rank
    adds its local squares divided by the number of ranks of its stage holding the same piece
    (`stage_size` = dp x tp ranks per stage), so every rank gets the identical value.
    Parameters whose id is in `exclude` (a tied copy) are left out."""
    exclude = exclude or set()
    device = params[0].device if params else torch.device("cpu")
    total_sq = torch.zeros((), device=device, dtype=torch.float64)
    for p in params:
        if p.grad is None or id(p) in exclude:
            continue
        g = _without_partial(p.grad)
        local = g.to_local() if isinstance(g, DTensor) else g
        total_sq += local.double().square().sum() / _replicas(g, stage_size)
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(total_sq)
    return total_sq.sqrt().float()


@torch.no_grad()
def clip_grads(params: list[nn.Parameter], max_norm: float, total_norm: torch.Tensor) -> None:
    """Scale every gradient by min(1, max_norm / (norm + 1e-6)), as clip_grad_norm_ does."""
    coef = float(torch.clamp(max_norm / (total_norm + 1e-6), max=1.0))
    for same_kind in _split_by_kind(p.grad for p in params if p.grad is not None).values():
        torch._foreach_mul_(same_kind, coef)
