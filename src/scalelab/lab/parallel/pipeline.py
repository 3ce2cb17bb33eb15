"""Pipeline parallelism: cut the Transformer into `pp` contiguous stages and run them with
`torch.distributed.pipelining` (GPipe, Huang et al. 2019; 1F1B, Narayanan et al. 2021 sec. 2.2).

A stage keeps the full model's parameter names (`blocks.5.attn.q.weight`), so distributed
checkpoints written under one pipeline split load under another. With tied embeddings the
first stage owns `tok_emb.weight` and the last a copy `head.weight`; their gradients are summed
over a first/last-stage group after every step (as Megatron-LM's embedding group does).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleGPipe
from torch.distributed.pipelining.schedules import PipelineScheduleSingle

from scalelab.lab.models.transformer import Transformer
from scalelab.lab.parallel.dims import ParallelDims


def stage_layers(n_layers: int, num_stages: int, stage: int) -> range:
    """Block indices of `stage`: contiguous, earlier stages take the remainder."""
    base, extra = divmod(n_layers, num_stages)
    start = stage * base + min(stage, extra)
    return range(start, start + base + (1 if stage < extra else 0))


class StageModule(nn.Module):
    """One pipeline stage of a Transformer: embeddings on the first, norm and head on the last."""

    def __init__(self, model: Transformer, stage: int, num_stages: int) -> None:
        super().__init__()
        cfg = model.config
        self.is_first, self.is_last = stage == 0, stage == num_stages - 1
        if self.is_first:
            self.tok_emb, self.pos_emb, self.drop = model.tok_emb, model.pos_emb, model.drop
        ids = stage_layers(cfg.n_layers, num_stages, stage)
        self.blocks = nn.ModuleDict({str(i): model.blocks[i] for i in ids})
        self.tied_copy = self.is_last and cfg.tie_embeddings and not self.is_first
        if self.is_last:
            self.final_norm = model.final_norm
            self.head = model.head
            if self.tied_copy:
                self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
                self.head.weight = nn.Parameter(model.head.weight.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.is_first:
            pos = torch.arange(x.shape[1], device=x.device)
            x = self.drop(self.tok_emb(x) + self.pos_emb(pos))
        for block in self.blocks.values():
            x = block(x)
        if self.is_last:
            x = self.head(self.final_norm(x))
        return x


def pipeline_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of one microbatch; the schedule divides gradients by the count."""
    return F.cross_entropy(logits.flatten(0, -2).float(), targets.flatten())


def build_schedule(
    module: nn.Module, dims: ParallelDims, mesh: DeviceMesh, device: torch.device, n_micro: int
) -> PipelineScheduleSingle:
    """A PipelineStage around this rank's (already parallelized) stage module, and its schedule."""
    pp_mesh = mesh["pp"]
    stage = PipelineStage(
        module, pp_mesh.get_local_rank(), dims.pp, device, group=pp_mesh.get_group()
    )
    cls = ScheduleGPipe if dims.schedule == "gpipe" else Schedule1F1B
    return cls(stage, n_microbatches=n_micro, loss_fn=pipeline_loss)


def tied_embedding_group(mesh: DeviceMesh) -> dist.ProcessGroup | None:
    """The {first stage, last stage} group of this rank's (dp, tp) coordinate; every rank
    creates every group in the same order, as `new_group` requires."""
    ranks = mesh.mesh.reshape(mesh.mesh.shape[0], -1)
    mine = None
    for col in range(ranks.shape[1]):
        pair = [int(ranks[0, col]), int(ranks[-1, col])]
        group = dist.new_group(pair)
        if dist.get_rank() in pair:
            mine = group
    return mine


def sync_tied_grads(stage: StageModule, group: dist.ProcessGroup | None) -> None:
    """Sum the gradients of the tied embedding over its two copies (first and last stage)."""
    if group is None:
        return
    param = stage.tok_emb.weight if stage.is_first else stage.head.weight
    grad = param.grad
    if grad is None:
        return
    local = grad.to_local() if hasattr(grad, "to_local") else grad
    dist.all_reduce(local, group=group)
