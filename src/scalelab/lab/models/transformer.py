"""A decoder-only transformer on one device, in the spirit of nanoGPT: one readable file.

Byte-level by default (vocab 256). Switches for the algorithm experiments: residual on/off,
normalization pre/post/none (RMSNorm or LayerNorm), dropout, MLP or SwiGLU, init scheme.
Parallelism (DDP/FSDP/TP/PP) is applied elsewhere and never edits this file.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from scalelab.lab.models.init import InitScheme, init_linear
from scalelab.lab.models.mlp import NormKind, NormPosition, make_norm


class TransformerConfig(BaseModel):
    """Shape and switches; `d_ff` defaults to 4*d_model (gelu) or its 2/3 (swiglu, same FLOPs)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    vocab_size: int = Field(256, gt=1)
    seq_len: int = Field(128, gt=0, description="context length in tokens")
    d_model: int = Field(128, gt=0)
    n_layers: int = Field(4, gt=0)
    n_heads: int = Field(4, gt=0)
    d_ff: int | None = Field(None, gt=0)
    mlp: Literal["swiglu", "gelu"] = "swiglu"
    norm: NormKind = "rms"
    norm_position: NormPosition = "pre"
    residual: bool = True
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    init: InitScheme = "normal"
    tie_embeddings: bool = True

    @model_validator(mode="after")
    def _heads_divide_width(self) -> TransformerConfig:
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )
        return self

    @property
    def ffn_width(self) -> int:
        if self.d_ff is not None:
            return self.d_ff
        return 4 * self.d_model if self.mlp == "gelu" else int(8 * self.d_model / 3)


class Attention(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.head_dim = cfg.d_model // cfg.n_heads
        # Separate q/k/v (same math and init as one fused qkv) so tensor parallelism can split
        # heads; views use -1 heads so a shard holding n_heads/tp heads runs the same code.
        self.q = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.k = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.v = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model, bias=False)
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = (
            f(x).view(b, t, -1, self.head_dim).transpose(1, 2) for f in (self.q, self.k, self.v)
        )
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, -1))


class FeedForward(nn.Module):
    """gelu: W2 gelu(W1 x); swiglu: W2 (silu(W1 x) * W3 x) (Shazeer 2020, eq. 6)."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.swiglu = cfg.mlp == "swiglu"
        self.up = nn.Linear(cfg.d_model, cfg.ffn_width, bias=False)
        self.gate = nn.Linear(cfg.d_model, cfg.ffn_width, bias=False) if self.swiglu else None
        self.proj = nn.Linear(cfg.ffn_width, cfg.d_model, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.gate is not None:
            return self.proj(F.silu(self.gate(x)) * self.up(x))
        return self.proj(F.gelu(self.up(x)))


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        has_norm = cfg.norm_position != "none"
        self.norm1 = make_norm(cfg.norm, cfg.d_model) if has_norm else nn.Identity()
        self.norm2 = make_norm(cfg.norm, cfg.d_model) if has_norm else nn.Identity()
        self.attn = Attention(cfg)
        self.ffn = FeedForward(cfg)
        self.drop = nn.Dropout(cfg.dropout)
        self.norm_position = cfg.norm_position
        self.residual = cfg.residual

    def _sublayer(self, x: torch.Tensor, f: nn.Module, norm: nn.Module) -> torch.Tensor:
        h = self.drop(f(norm(x) if self.norm_position == "pre" else x))
        out = x + h if self.residual else h
        return norm(out) if self.norm_position == "post" else out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self._sublayer(x, self.attn, self.norm1)
        return self._sublayer(x, self.ffn, self.norm2)


class Transformer(nn.Module):
    """tokens (B, T) int64 -> logits (B, T, vocab). `blocks` are the layers diagnostics measure."""

    def __init__(self, cfg: TransformerConfig) -> None:
        super().__init__()
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model)
        self.pos_emb = nn.Embedding(cfg.seq_len, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layers))
        pre = cfg.norm_position == "pre"
        self.final_norm = make_norm(cfg.norm, cfg.d_model) if pre else nn.Identity()
        self.head = nn.Linear(cfg.d_model, cfg.vocab_size, bias=False)
        self._init_weights()
        if cfg.tie_embeddings:
            self.head.weight = self.tok_emb.weight

    @torch.no_grad()
    def _init_weights(self) -> None:
        cfg = self.config
        for name, module in self.named_modules():
            if isinstance(module, nn.Linear):
                # GPT-2 scales the projections into the residual stream by 1/sqrt(2 n_layers).
                scale = 1 / math.sqrt(2 * cfg.n_layers) if name.endswith(".proj") else 1.0
                init_linear(module, cfg.init, "gelu", std=0.02 * scale)
            elif isinstance(module, nn.Embedding) and cfg.init != "default":
                nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        t = tokens.shape[1]
        if t > self.config.seq_len:
            raise ValueError(f"sequence of {t} tokens exceeds seq_len {self.config.seq_len}")
        pos = torch.arange(t, device=tokens.device)
        x = self.drop(self.tok_emb(tokens) + self.pos_emb(pos))
        for block in self.blocks:
            x = block(x)
        return self.head(self.final_norm(x))


def flops_per_token(cfg: TransformerConfig) -> float:
    """Training FLOPs per token: 6 x matmul params + 12 L d T for attention (PaLM 2022, app. B)."""
    per_layer = 4 * cfg.d_model**2 + (3 if cfg.mlp == "swiglu" else 2) * cfg.d_model * cfg.ffn_width
    head = cfg.d_model * cfg.vocab_size
    return 6.0 * (cfg.n_layers * per_layer + head) + 12.0 * cfg.n_layers * cfg.d_model * cfg.seq_len
