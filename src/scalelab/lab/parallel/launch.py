"""Starting processes: `torchrun` command lines (one node or many), in-process spawning for
tests and calibration, and joining the process group torchrun describes in the environment.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import torch
import torch.distributed as dist

from scalelab.core.errors import ConfigError
from scalelab.lab.parallel.local import TRAIN_MODULE, localhost_store, worker_env

TIMEOUT_ENV = "SCALELAB_DIST_TIMEOUT_S"


@dataclass(frozen=True)
class DistEnv:
    """This process's place in the job, as torchrun (or `spawn`) set it in the environment."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    backend: str


def free_port() -> int:
    """A TCP port nobody listens on right now (for MASTER_PORT on one machine)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def select_backend(device: str) -> tuple[str, str]:
    """(device type, backend): NCCL on CUDA, gloo on CPU; `auto` takes CUDA when present."""
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' requested but CUDA is not available")
    if device not in ("cpu", "cuda"):
        raise ConfigError(f"device must be cpu, cuda or auto, got {device!r}")
    return device, "nccl" if device == "cuda" else "gloo"


def init_distributed(device: str = "auto") -> DistEnv:
    """Join the process group from RANK/WORLD_SIZE/MASTER_ADDR (a single process needs none)."""
    device_type, backend = select_backend(device)
    rank = int(os.environ.setdefault("RANK", "0"))
    world = int(os.environ.setdefault("WORLD_SIZE", "1"))
    local_rank = int(os.environ.setdefault("LOCAL_RANK", "0"))
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    if "MASTER_PORT" not in os.environ:
        if world > 1:
            raise ConfigError("WORLD_SIZE > 1 but MASTER_PORT is unset; launch with torchrun")
        os.environ["MASTER_PORT"] = str(free_port())
    dev = torch.device(device_type, local_rank) if device_type == "cuda" else torch.device("cpu")
    if device_type == "cuda":
        torch.cuda.set_device(dev)
    store = _agent_store()
    if store is None and world == 1:
        store = dist.HashStore()  # one process needs no TCP listener at all
    if not dist.is_initialized():
        dist.init_process_group(
            backend,
            rank=rank,
            world_size=world,
            device_id=_device_id(dev),
            store=store,
            timeout=_timeout(),
        )
    return DistEnv(rank, world, local_rank, dev, backend)


def _agent_store() -> dist.Store | None:
    """Under torchrun, the agent's store with a prefix per restart: a restarted job must not
    read the addresses its dead predecessor published there (gloo would connect to them)."""
    if os.environ.get("TORCHELASTIC_USE_AGENT_STORE") != "True":
        return None
    store = dist.TCPStore(
        os.environ["MASTER_ADDR"],
        int(os.environ["MASTER_PORT"]),
        int(os.environ["WORLD_SIZE"]),
        is_master=False,
    )
    attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")
    return dist.PrefixStore(f"scalelab/attempt_{attempt}", store)


def _timeout() -> timedelta | None:
    """SCALELAB_DIST_TIMEOUT_S bounds every collective (tests: fail instead of hanging)."""
    value = os.environ.get(TIMEOUT_ENV)
    return timedelta(seconds=float(value)) if value else None


def _device_id(dev: torch.device) -> torch.device | None:
    return dev if dev.type == "cuda" else None


def shutdown_distributed() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def _spawned(
    local_rank: int, fn: Callable[..., Any], world: int, port: int, threads: int, args: tuple
) -> None:
    os.environ.update(worker_env(local_rank, world, port, attempt=0))
    torch.set_num_threads(threads)
    fn(*args)


def spawn(fn: Callable[..., Any], world_size: int, *args: Any, threads: int = 1) -> None:
    """Run `fn(*args)` in `world_size` fresh processes on this machine (torch.multiprocessing),
    each with torchrun's environment variables and `threads` intra-op threads; raises if any fails.
    The rendezvous store is this process's, on 127.0.0.1. `fn` must be importable."""
    import torch.multiprocessing as mp

    store, port = localhost_store(world_size)
    mp.spawn(_spawned, args=(fn, world_size, port, threads, args), nprocs=world_size, join=True)


def torchrun_command(
    run_file: str,
    nproc_per_node: int,
    *,
    nnodes: int = 1,
    rdzv_endpoint: str | None = None,
    max_restarts: int = 0,
    extra_args: Sequence[str] = (),
) -> list[str]:
    """The `torchrun` command line that trains `run_file` (standalone on one node, or joining
    a c10d rendezvous at HOST:PORT across `nnodes` nodes)."""
    cmd = [sys.executable, "-m", "torch.distributed.run"]
    if nnodes == 1 and rdzv_endpoint is None:
        cmd.append("--standalone")
    else:
        if rdzv_endpoint is None:
            raise ConfigError("--nnodes > 1 needs --rdzv-endpoint HOST:PORT")
        cmd += ["--nnodes", str(nnodes), "--rdzv-backend", "c10d"]
        cmd += ["--rdzv-endpoint", rdzv_endpoint]
    cmd += ["--nproc-per-node", str(nproc_per_node), "--max-restarts", str(max_restarts)]
    return [*cmd, "-m", TRAIN_MODULE, run_file, *extra_args]
