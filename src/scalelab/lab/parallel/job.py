"""Everything one rank holds for a distributed run: mesh, its model part, the pipeline
schedule (when pp > 1), optimizer, data loader and checkpointer; and one training step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.device_mesh import DeviceMesh, init_device_mesh
from torch.distributed.pipelining.schedules import PipelineScheduleSingle

from scalelab.lab.data import ByteSplits, load_corpus_bytes
from scalelab.lab.models.transformer import Transformer
from scalelab.lab.optim import lr_at, set_lr
from scalelab.lab.parallel.config import DistRun
from scalelab.lab.parallel.data import GlobalBatchLoader
from scalelab.lab.parallel.dcp import DistCheckpointer
from scalelab.lab.parallel.dims import MESH_DIM_NAMES, ParallelDims
from scalelab.lab.parallel.launch import DistEnv
from scalelab.lab.parallel.optim import build_dist_optimizer, clip_grads, total_grad_norm
from scalelab.lab.parallel.parallelize import parallelize
from scalelab.lab.parallel.pipeline import (
    StageModule,
    build_schedule,
    sync_tied_grads,
    tied_embedding_group,
)
from scalelab.lab.seeding import seed_everything
from scalelab.lab.step import autocast, autocast_dtype, compute_loss


def build_mesh(dims: ParallelDims, device_type: str) -> DeviceMesh:
    """The 4-D mesh (pp, dp_replicate, dp_shard, tp); dimensions of size 1 cost nothing."""
    return init_device_mesh(device_type, dims.mesh_shape, mesh_dim_names=MESH_DIM_NAMES)


def step_seed(seed: int, step: int, dp_rank: int, pp_rank: int) -> int:
    """Dropout seed of one step: equal across tp ranks (they compute replicated activations)."""
    return int(np.random.SeedSequence([seed, step, dp_rank, pp_rank]).generate_state(1)[0])


@dataclass
class Job:
    """One rank's share of a distributed run."""

    run: DistRun
    env: DistEnv
    dims: ParallelDims
    mesh: DeviceMesh
    module: nn.Module
    stage: StageModule | None
    schedule: PipelineScheduleSingle | None
    optimizer: torch.optim.Optimizer
    loader: GlobalBatchLoader
    checkpointer: DistCheckpointer
    tied_group: dist.ProcessGroup | None
    dtype: torch.dtype | None
    dp_rank: int
    pp_rank: int

    @property
    def is_last_stage(self) -> bool:
        return self.pp_rank == self.dims.pp - 1


def _build_model(
    run: DistRun, dims: ParallelDims, mesh: DeviceMesh, device: torch.device
) -> tuple[nn.Module, StageModule | None, PipelineScheduleSingle | None]:
    """The full model (same seed on every rank) -> this rank's pipeline stage -> TP/FSDP/DDP."""
    cfg = run.run
    seed_everything(cfg.train.seed, cfg.train.deterministic)
    model: nn.Module = Transformer(cfg.model).to(device)
    if dims.pp == 1:
        return parallelize(model, dims, mesh), None, None
    stage = StageModule(model, mesh["pp"].get_local_rank(), dims.pp)
    module = parallelize(stage, dims, mesh)
    n_micro = dims.num_microbatches(cfg.train.batch_size)
    return module, stage, build_schedule(module, dims, mesh, device, n_micro)


def build_job(run: DistRun, env: DistEnv) -> Job:
    """Check the plan, build the mesh and this rank's model part, optimizer and data loader."""
    cfg = run.run
    dims = ParallelDims.from_plan(run.plan, env.world_size)
    dims.check_model(cfg.model.n_heads, cfg.model.ffn_width, cfg.model.n_layers, cfg.model.seq_len)
    dims.num_microbatches(cfg.train.batch_size)  # fails early on a batch the plan cannot split
    mesh = build_mesh(dims, env.device.type)
    module, stage, schedule = _build_model(run, dims, mesh, env.device)
    optimizer = build_dist_optimizer(module, cfg.optim)
    text = load_corpus_bytes(cfg.data.corpus, cfg.data.path)
    splits = ByteSplits.from_bytes(text, cfg.data.val_frac, cfg.model.seq_len)
    # One of the two data-parallel mesh dimensions has size 1.
    dp_rank = mesh["dp_replicate"].get_local_rank() + mesh["dp_shard"].get_local_rank()
    loader = GlobalBatchLoader(
        splits.train, cfg.train.batch_size, cfg.model.seq_len, cfg.train.seed, dp_rank, dims.dp
    )
    tied = tied_embedding_group(mesh) if dims.pp > 1 and cfg.model.tie_embeddings else None
    ckpt = DistCheckpointer(run.checkpoint_dir, module, optimizer, loader)
    dtype = autocast_dtype(env.device, cfg.train.precision)
    pp_rank = mesh["pp"].get_local_rank()
    return Job(
        run, env, dims, mesh, module, stage, schedule, optimizer, loader, ckpt, tied, dtype,
        dp_rank, pp_rank,
    )  # fmt: skip


def forward_backward(job: Job, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Loss of this rank's rows (zero on pipeline stages that do not compute it)."""
    with autocast(job.env.device, job.dtype):
        if job.schedule is None:
            loss = compute_loss(job.module, (x, y))
            loss.backward()
            return loss.detach()
        losses: list[torch.Tensor] = []
        first, last = job.pp_rank == 0, job.is_last_stage
        args = (x,) if first else ()
        job.schedule.step(*args, target=y if last else None, losses=losses if last else None)
    if job.stage is not None:
        sync_tied_grads(job.stage, job.tied_group)
    if not last:
        return torch.zeros((), device=job.env.device)
    return torch.stack(losses).mean().detach()


def train_step(job: Job, step: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One optimizer step at `step` (0-based); returns (local loss, global grad norm or None)."""
    cfg = job.run.run
    set_lr(job.optimizer, lr_at(step, cfg.train.steps, cfg.optim))
    torch.manual_seed(step_seed(cfg.train.seed, step, job.dp_rank, job.pp_rank))
    x, y = job.loader.next(job.env.device)
    job.module.train()
    job.optimizer.zero_grad(set_to_none=True)
    loss = forward_backward(job, x, y)
    norm = None
    if cfg.train.clip_grad_norm is not None:
        params = list(job.module.parameters())
        stage = job.stage
        skip = {id(stage.head.weight)} if stage is not None and stage.tied_copy else None
        norm = total_grad_norm(params, job.dims.dp * job.dims.tp, skip)
        clip_grads(params, cfg.train.clip_grad_norm, norm)
    job.optimizer.step()
    return loss, norm


def global_mean_loss(job: Job, local: torch.Tensor) -> float:
    """The loss over the whole global batch: mean over dp ranks of the last stage's loss."""
    if job.env.world_size == 1:
        return float(local)
    share = local.float() / (job.dims.dp * job.dims.tp) if job.is_last_stage else local * 0.0
    total = share.clone()
    dist.all_reduce(total)
    return float(total)
