"""The distributed training loop, and its entry point for torchrun:

    torchrun --standalone --nproc-per-node 2 -m scalelab.lab.parallel.train_dist RUN.toml

Checkpoints go to OUTPUT/dcp every `train.checkpoint_every` steps and at the end; a job that
torchrun restarts (`--max-restarts`) continues from the newest one, so no step is lost or
applied twice. Rank 0 writes OUTPUT/metrics.csv and OUTPUT/dist_summary.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch.distributed.tensor import DTensor

from scalelab.core.errors import CheckpointError, ConfigError, ScalelabError
from scalelab.core.io import write_atomic
from scalelab.lab.metrics import MetricsWriter
from scalelab.lab.parallel.config import DistRun, dist_run_from_mapping, load_dist_run
from scalelab.lab.parallel.dcp import latest_checkpoint
from scalelab.lab.parallel.job import Job, build_job, global_mean_loss, train_step
from scalelab.lab.parallel.launch import DistEnv, init_distributed, shutdown_distributed, spawn
from scalelab.lab.parallel.local import die_with_parent, report_error
from scalelab.lab.runlock import RunLock
from scalelab.lab.trainer import DivergenceError

log = logging.getLogger(__name__)

# Test hook for fault tolerance: "RANK:STEP:MARKER" makes RANK SIGKILL itself before STEP,
# once (MARKER is created first, so the restarted job runs through).
FAULT_ENV = "SCALELAB_FAULT_KILL"
SUMMARY = "dist_summary.json"
WARMUP_STEPS = 2


@dataclass
class DistResult:
    """What rank 0 saw: losses by 0-based step, step times (s) and where the run stands."""

    world_size: int
    plan: dict[str, object]
    start_step: int
    end_step: int
    losses: dict[int, float] = field(default_factory=dict)
    step_times_s: list[float] = field(default_factory=list)
    checkpoint: str | None = None
    tokens_per_step: int = 0

    @property
    def median_step_time_s(self) -> float:
        """Median over the steps after the first WARMUP_STEPS of this process (nan if none)."""
        timed = self.step_times_s[WARMUP_STEPS:] or self.step_times_s
        return statistics.median(timed) if timed else float("nan")

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "median_step_time_s": self.median_step_time_s}


def _maybe_inject_fault(rank: int, step: int) -> None:
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    kill_rank, kill_step, marker = spec.split(":", 2)
    if rank == int(kill_rank) and step == int(kill_step) and not Path(marker).exists():
        Path(marker).touch()
        os.kill(os.getpid(), signal.SIGKILL)


def _start_step(job: Job, resume: bool) -> int:
    restarted = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) > 0
    if not (resume or restarted):
        if latest_checkpoint(job.run.checkpoint_dir) is not None:
            raise ConfigError(
                f"{job.run.out_dir} already holds distributed checkpoints; pass --resume to "
                "continue or choose another output.dir"
            )
        return 0
    step = job.checkpointer.load_latest()
    if step is None and resume:
        raise ConfigError(f"nothing to resume: no checkpoint under {job.run.checkpoint_dir}")
    if step is not None and job.loader.position != step:
        raise CheckpointError(
            f"{job.run.checkpoint_dir}: data position {job.loader.position} != step {step}"
        )
    return step or 0


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


@torch.no_grad()
def _all_finite(job: Job, loss: torch.Tensor, norm: torch.Tensor | None) -> bool:
    """Whether every rank's loss, the gradient norm and every local weight are finite (one
    all-reduce, so all ranks decide alike)."""
    bad = torch.zeros((), device=job.env.device)
    local = [p.to_local() if isinstance(p, DTensor) else p for p in job.module.parameters()]
    finite = [torch.isfinite(loss).all()] + [torch.isfinite(p).all() for p in local]
    if norm is not None:
        finite.append(torch.isfinite(norm).all())
    bad += (~torch.stack(finite).all()).float()
    if dist.is_initialized() and dist.get_world_size() > 1:
        dist.all_reduce(bad)
    return float(bad) == 0.0


def _diverged(job: Job, step: int, value: float) -> DivergenceError:
    lr = job.optimizer.param_groups[0]["lr"]
    last = latest_checkpoint(job.run.checkpoint_dir)
    kept = f"{last} stays the latest checkpoint" if last else "no checkpoint was written"
    return DivergenceError(
        f"training diverged: a non-finite loss, gradient norm or weight by step {step} (loss "
        f"{value:.4g}, lr {lr:.3g}); stopped before writing a checkpoint, {kept}; "
        "lower optim.lr or set train.clip_grad_norm"
    )


def _loop(job: Job, start: int, end: int, result: DistResult, writer: MetricsWriter | None):
    cfg = job.run.run.train
    every = cfg.checkpoint_every
    for step in range(start, end):
        _maybe_inject_fault(job.env.rank, step)
        t0 = time.perf_counter()
        loss, norm = train_step(job, step)
        _sync(job.env.device)
        result.step_times_s.append(time.perf_counter() - t0)
        done = step + 1
        save = (every and done % every == 0) or done == end
        if step % cfg.log_every == 0 or step == end - 1 or save:
            value = global_mean_loss(job, loss)
            result.losses[step] = value
            if writer is not None:
                values = {"train/loss": value, "train/step_time_s": result.step_times_s[-1]}
                if norm is not None:
                    values["train/grad_norm"] = float(norm)
                writer.log(step, values)
                log.info("step %d loss %.4f", step, value)
            if not (math.isfinite(value) and _all_finite(job, loss, norm)):
                raise _diverged(job, done, value)
        if save:
            result.checkpoint = str(job.checkpointer.save(done))


def _lock_run(run: DistRun, env: DistEnv) -> RunLock | None:
    """Rank 0 holds OUTPUT/.lock for the whole run; every rank learns whether it got it."""
    lock, problem = None, None
    if env.rank == 0:
        try:
            lock = RunLock(run.out_dir).acquire()
        except ConfigError as exc:
            problem = exc
    refused = torch.tensor([0.0 if problem is None else 1.0], device=env.device)
    if env.world_size > 1:
        dist.broadcast(refused, src=0)
    if problem is not None:
        raise problem
    if float(refused) > 0:
        raise ConfigError(f"{run.out_dir} is in use by another scalelab run (see rank 0)")
    return lock


def train_distributed(run: DistRun, resume: bool = False, stop_after: int | None = None):
    """Train `run` in this process's place of the job (torchrun/spawn set the environment)."""
    env = init_distributed(run.run.train.device)
    lock = _lock_run(run, env)
    try:
        return _train_locked(run, env, resume, stop_after)
    finally:
        if lock is not None:
            lock.release()


def _train_locked(run: DistRun, env: DistEnv, resume: bool, stop_after: int | None):
    job = build_job(run, env)
    start = _start_step(job, resume)
    end = min(run.run.train.steps, stop_after or run.run.train.steps)
    batch, seq = run.run.train.batch_size, run.run.model.seq_len
    result = DistResult(
        env.world_size, run.plan.model_dump(), start, end, tokens_per_step=batch * seq
    )
    writer = None
    if env.rank == 0:
        writer = MetricsWriter(run.out_dir, resume_step=start - 1 if start else None)
    try:
        _loop(job, start, end, result, writer)
    finally:
        if writer is not None:
            writer.close()
    if env.rank == 0:
        write_atomic(run.out_dir / SUMMARY, json.dumps(result.to_dict(), indent=1))
    dist.barrier()
    return result


def _spawned_training(raw: dict[str, object], resume: bool, stop_after: int | None) -> None:
    try:
        train_distributed(dist_run_from_mapping(raw, "run"), resume, stop_after)
    finally:
        shutdown_distributed()


def spawn_training(
    raw: dict[str, object], world_size: int, resume: bool = False, stop_after: int | None = None
) -> dict[str, object]:
    """Train a run mapping (RUN.toml as a dict) in `world_size` local processes started with
    torch.multiprocessing; returns rank 0's summary (what OUTPUT/dist_summary.json holds)."""
    run = dist_run_from_mapping(raw, "run")
    spawn(_spawned_training, world_size, raw, resume, stop_after)
    return json.loads((run.out_dir / SUMMARY).read_text())


def main(argv: list[str] | None = None) -> int:
    """`python -m scalelab.lab.parallel.train_dist RUN.toml [--resume] [--steps N] [--out DIR]`,
    under torchrun."""
    parser = argparse.ArgumentParser(prog="scalelab.lab.parallel.train_dist")
    parser.add_argument("run_file", type=Path)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--steps", type=int, help="override train.steps")
    parser.add_argument("--out", type=Path, help="override output.dir")
    args = parser.parse_args(argv)
    overrides: dict[str, dict[str, object]] = {}
    if args.steps is not None:
        overrides["train"] = {"steps": args.steps}
    if args.out is not None:
        overrides["output"] = {"dir": str(args.out.resolve())}
    die_with_parent()
    rank = int(os.environ.get("RANK", "0"))
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING, format="%(message)s")
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", torch.get_num_threads())))
    try:
        train_distributed(load_dist_run(args.run_file, overrides), resume=args.resume)
    except ScalelabError as exc:
        if not report_error(rank, str(exc)):  # under `scalelab train --nproc` it prints once
            log.error("error: %s", exc)
        return 1
    finally:
        shutdown_distributed()
    return 0


if __name__ == "__main__":
    sys.exit(main())
