"""Does a plan compute what one device computes? One step's loss and gradients under the plan
against the single-process Transformer on the same global batch, per parameter name.

`check_plans` spawns the processes itself (gloo on CPU) and runs several plans in one job.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor

from scalelab.lab.models.transformer import Transformer
from scalelab.lab.parallel.config import dist_run_from_mapping
from scalelab.lab.parallel.job import Job, build_job, forward_backward, global_mean_loss
from scalelab.lab.parallel.launch import init_distributed, spawn
from scalelab.lab.parallel.optim import total_grad_norm
from scalelab.lab.step import compute_loss

_WRAPPER_PARTS = {"module", "_checkpoint_wrapped_module", "_fsdp_wrapped_module"}


@dataclass(frozen=True)
class GradientCheck:
    """One plan's step against one device: losses and the largest gradient difference."""

    plan: dict[str, Any]
    loss: float
    reference_loss: float
    max_abs_grad_diff: float
    max_abs_grad: float
    num_params_compared: int
    grad_norm: float
    reference_grad_norm: float


def clean_name(name: str) -> str:
    """A parameter's full-model name without the wrappers' prefixes."""
    return ".".join(part for part in name.split(".") if part not in _WRAPPER_PARTS)


def _reference(job: Job) -> tuple[float, dict[str, torch.Tensor], float]:
    """Loss, gradients (by name, tied names included) and gradient norm of one process."""
    cfg = job.run.run
    torch.manual_seed(cfg.train.seed)
    ref = Transformer(cfg.model).to(job.env.device)
    x, y = job.loader.global_batch(0)
    loss = compute_loss(ref, (x.to(job.env.device), y.to(job.env.device)))
    loss.backward()
    grads = {n: p.grad for n, p in ref.named_parameters(remove_duplicate=False)}
    norm = torch.nn.utils.get_total_norm([p.grad for p in ref.parameters()])
    return loss.item(), grads, float(norm)


def _compare(job: Job, ref_grads: dict[str, torch.Tensor]) -> tuple[float, float, int]:
    worst, biggest, count = 0.0, 0.0, 0
    for name, p in job.module.named_parameters():
        g = p.grad.full_tensor() if isinstance(p.grad, DTensor) else p.grad
        ref = ref_grads[clean_name(name)]
        worst = max(worst, float((g - ref).abs().max()))
        biggest = max(biggest, float(ref.abs().max()))
        count += 1
    stats = torch.tensor([worst, biggest])
    dist.all_reduce(stats, op=dist.ReduceOp.MAX)
    total = torch.tensor([count])
    dist.all_reduce(total)
    return float(stats[0]), float(stats[1]), int(total)


def check_gradients(raw_run: dict[str, Any], plan: dict[str, Any]) -> GradientCheck:
    """In each process of a job: one step of `raw_run` under `plan`, no optimizer update."""
    run = dist_run_from_mapping({**raw_run, "parallel": plan}, "verify")
    env = init_distributed(run.run.train.device)
    job = build_job(run, env)
    x, y = job.loader.next(env.device)
    job.module.train()
    loss = global_mean_loss(job, forward_backward(job, x, y))
    stage = job.stage
    skip = {id(stage.head.weight)} if stage is not None and stage.tied_copy else None
    params = list(job.module.parameters())
    norm = float(total_grad_norm(params, job.dims.dp * job.dims.tp, skip))
    ref_loss, ref_grads, ref_norm = _reference(job)
    worst, biggest, count = _compare(job, ref_grads)
    return GradientCheck(plan, loss, ref_loss, worst, biggest, count, norm, ref_norm)


def _check_worker(raw_run: dict[str, Any], plans: list[dict[str, Any]], out: str) -> None:
    results = [asdict(check_gradients(raw_run, plan)) for plan in plans]
    if int(os.environ["RANK"]) == 0:
        Path(out).write_text(json.dumps(results))
    dist.destroy_process_group()


def check_plans(
    raw_run: dict[str, Any], plans: list[dict[str, Any]], world_size: int
) -> list[GradientCheck]:
    """Spawn `world_size` gloo processes and check every plan in turn (one job, one start-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "checks.json")
        spawn(_check_worker, world_size, raw_run, plans, out)
        return [GradientCheck(**r) for r in json.loads(Path(out).read_text())]
