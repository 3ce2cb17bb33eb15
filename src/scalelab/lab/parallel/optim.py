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
from torch.distributed.tensor import DTensor

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


@torch.no_grad()
def total_grad_norm(
    params: list[nn.Parameter],
    pp_group: dist.ProcessGroup | None = None,
    exclude: set[int] | None = None,
) -> torch.Tensor:
    """The 2-norm of all gradients of the whole model: DTensor norms are reduced over their
    mesh, plain tensors are replicated, pipeline stages are summed over `pp_group`;
    parameters whose id is in `exclude` (a tied copy) are left out of the sum."""
    exclude = exclude or set()
    grads = [p.grad for p in params if p.grad is not None and id(p) not in exclude]
    squares = []
    for same_kind in _split_by_kind(grads).values():  # type: ignore[arg-type]
        norm = torch.nn.utils.get_total_norm(same_kind, 2.0)
        if isinstance(norm, DTensor):
            norm = norm.full_tensor()
        squares.append(norm.float() ** 2)
    device = params[0].device if params else torch.device("cpu")
    total_sq = torch.stack(squares).sum() if squares else torch.zeros((), device=device)
    if pp_group is not None:
        dist.all_reduce(total_sq, group=pp_group)
    return total_sq.sqrt()


@torch.no_grad()
def clip_grads(params: list[nn.Parameter], max_norm: float, total_norm: torch.Tensor) -> None:
    """Scale every gradient by min(1, max_norm / (norm + 1e-6)), as clip_grad_norm_ does."""
    coef = float(torch.clamp(max_norm / (total_norm + 1e-6), max=1.0))
    for same_kind in _split_by_kind(p.grad for p in params if p.grad is not None).values():
        torch._foreach_mul_(same_kind, coef)
