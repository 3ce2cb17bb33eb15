"""The training step: per-layer ops, passes, pipeline stages and schedules, memory, plan arrays."""
