"""Sampling text from a byte-level language model (temperature and top-k), reproducible by seed."""

from __future__ import annotations

import torch

from scalelab.lab.models.transformer import Transformer


@torch.no_grad()
def generate(
    model: Transformer,
    prompt: bytes,
    num_tokens: int,
    temperature: float = 0.8,
    top_k: int | None = None,
    seed: int = 0,
) -> bytes:
    """`prompt` followed by `num_tokens` sampled bytes; the context is cropped to seq_len."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.tensor([list(prompt or b"\n")], dtype=torch.int64, device=device)
    for _ in range(num_tokens):
        context = tokens[:, -model.config.seq_len :]
        # Only byte values can be decoded, whatever the vocabulary size.
        logits = model(context)[0, -1, :256].float().cpu() / temperature
        if top_k is not None:
            kth = torch.topk(logits, min(top_k, logits.numel())).values[-1]
            logits[logits < kth] = -float("inf")
        nxt = torch.multinomial(torch.softmax(logits, dim=-1), 1, generator=gen)
        tokens = torch.cat([tokens, nxt.to(device)[None]], dim=1)
    model.train(was_training)
    return bytes(tokens[0].tolist())
