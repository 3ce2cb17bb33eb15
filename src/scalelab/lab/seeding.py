"""Fixed seeds and deterministic kernels, and the RNG state a checkpoint must carry to resume exactly."""

from __future__ import annotations

import contextlib
import os
import random
from collections.abc import Iterator

import torch


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python and torch (CPU and CUDA); optionally forbid non-deterministic kernels."""
    random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        # cuBLAS needs a fixed workspace to be deterministic (PyTorch reproducibility notes).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)


def capture_rng_state(data_generator: torch.Generator) -> dict[str, torch.Tensor]:
    """Every RNG stream the training loop draws from, as uint8 tensors (safetensors-ready)."""
    state = {"torch_cpu": torch.get_rng_state(), "data": data_generator.get_state()}
    if torch.cuda.is_available():
        for i, s in enumerate(torch.cuda.get_rng_state_all()):
            state[f"torch_cuda_{i}"] = s
    return state


def restore_rng_state(state: dict[str, torch.Tensor], data_generator: torch.Generator) -> None:
    torch.set_rng_state(state["torch_cpu"])
    data_generator.set_state(state["data"])
    cuda = [state[k] for k in sorted(state) if k.startswith("torch_cuda_")]
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(cuda)


@contextlib.contextmanager
def cpu_threads(num_threads: int) -> Iterator[None]:
    """Temporarily set torch's intra-op threads (tiny models run faster and steadier on one), and
    restore the deterministic-algorithms flag that `seed_everything` may switch on inside."""
    previous = torch.get_num_threads()
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
        torch.use_deterministic_algorithms(was_deterministic)
