"""The data loader of a distributed run: the global batch of step s is a pure function of
(seed, s), and each data-parallel rank takes its rows. Its position (the next step) is part of
every checkpoint, so a restarted or resharded job continues with exactly the next batch.
"""

from __future__ import annotations

from typing import Any

import torch

from scalelab.core.errors import CheckpointError
from scalelab.lab.data import sample_windows

Batch = tuple[torch.Tensor, torch.Tensor]


def step_generator(seed: int, step: int) -> torch.Generator:
    # Mixing constants keep (seed, step) pairs from colliding for any realistic run length.
    return torch.Generator().manual_seed((seed * 1_000_003 + step) % (2**63 - 1))


class GlobalBatchLoader:
    """Yields this rank's share of the global batch, step after step (torch DCP `Stateful`)."""

    def __init__(
        self,
        stream: torch.Tensor,
        global_batch_size: int,
        seq_len: int,
        seed: int,
        dp_rank: int = 0,
        dp_degree: int = 1,
    ) -> None:
        self.stream, self.seq_len, self.seed = stream, seq_len, seed
        self.global_batch_size = global_batch_size
        self.rows = global_batch_size // dp_degree
        self.dp_rank = dp_rank
        self.position = 0

    def global_batch(self, step: int) -> Batch:
        """The full (inputs, targets) batch of `step`, identical on every rank."""
        gen = step_generator(self.seed, step)
        return sample_windows(self.stream, self.global_batch_size, self.seq_len, gen)

    def next(self, device: torch.device) -> Batch:
        x, y = self.global_batch(self.position)
        self.position += 1
        rows = slice(self.dp_rank * self.rows, (self.dp_rank + 1) * self.rows)
        return x[rows].to(device), y[rows].to(device)

    def state_dict(self) -> dict[str, Any]:
        return {
            "position": torch.tensor(self.position),
            "seed": torch.tensor(self.seed),
            "global_batch_size": torch.tensor(self.global_batch_size),
            "seq_len": torch.tensor(self.seq_len),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("seed", "global_batch_size", "seq_len"):
            saved, mine = int(state[key]), getattr(self, key)
            if saved != mine:
                raise CheckpointError(
                    f"checkpoint data loader has {key} = {saved}, this run {mine}; resuming "
                    "would train on different data"
                )
        self.position = int(state["position"])
