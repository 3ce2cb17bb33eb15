"""The models compress works on: a small transformer-encoder text classifier (teacher and student).

Every weight matrix is an `nn.Linear` (separate q/k/v, as in lab's transformer) so PyTorch's
dynamic quantization, ONNX Runtime's MatMul quantizers and MatMulNBits all reach every matmul;
`nn.MultiheadAttention` keeps its input projection out of `nn.Linear` and would stay fp32.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

PAD_ID = 0
CLS_ID = 1


class EncoderConfig(BaseModel):
    """Shape of an EncoderClassifier; `max_len` counts the leading <cls> token."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    # upper bounds: a classifier trained on a CPU in minutes (a crafted file may claim more)
    vocab_size: int = Field(4096, gt=3, le=10**6)
    max_len: int = Field(128, gt=1, le=8192)
    d_model: int = Field(128, gt=0, le=4096)
    n_layers: int = Field(4, gt=0, le=64)
    n_heads: int = Field(4, gt=0, le=64)
    d_ff: int | None = Field(None, gt=0, le=4 * 4096)
    num_classes: int = Field(2, gt=1, le=10**4)
    dropout: float = Field(0.0, ge=0.0, lt=1.0)

    @model_validator(mode="after")
    def _heads_divide_width(self) -> EncoderConfig:
        if self.d_model % self.n_heads:
            raise ValueError(
                f"d_model ({self.d_model}) must be divisible by n_heads ({self.n_heads})"
            )
        return self

    @property
    def ffn_width(self) -> int:
        return self.d_ff if self.d_ff is not None else 4 * self.d_model


class SelfAttention(nn.Module):
    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.n_heads = cfg.n_heads
        self.q = nn.Linear(cfg.d_model, cfg.d_model)
        self.k = nn.Linear(cfg.d_model, cfg.d_model)
        self.v = nn.Linear(cfg.d_model, cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = (
            f(x).view(b, t, self.n_heads, -1).transpose(1, 2) for f in (self.q, self.k, self.v)
        )
        p = self.dropout if self.training else 0.0
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, dropout_p=p)
        return self.proj(y.transpose(1, 2).reshape(b, t, d))


class EncoderBlock(nn.Module):
    """Pre-norm: x + attn(ln(x)), then x + W2 gelu(W1 ln(x)) (Xiong et al. 2020)."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(cfg.d_model)
        self.attn = SelfAttention(cfg)
        self.norm2 = nn.LayerNorm(cfg.d_model)
        self.up = nn.Linear(cfg.d_model, cfg.ffn_width)
        self.down = nn.Linear(cfg.ffn_width, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        x = x + self.drop(self.attn(self.norm1(x), keep))
        return x + self.drop(self.down(F.gelu(self.up(self.norm2(x)))))


class EncoderClassifier(nn.Module):
    """token ids (B, T) int64, 0 = padding, position 0 = <cls> -> class logits (B, num_classes).

    The sentence vector is the mean of the final hidden states over non-padding positions.
    """

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=PAD_ID)
        self.pos_emb = nn.Embedding(cfg.max_len, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(EncoderBlock(cfg) for _ in range(cfg.n_layers))
        self.final_norm = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, cfg.num_classes)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def features(self, ids: torch.Tensor) -> torch.Tensor:
        """The pooled sentence vector (B, d_model) the head reads; distillation matches it."""
        mask = ids != PAD_ID  # (B, T)
        pos = torch.arange(ids.shape[1], device=ids.device)
        x = self.drop(self.tok_emb(ids) + self.pos_emb(pos))
        keep = mask[:, None, None, :]  # attend to real tokens only; <cls> keeps every row non-empty
        for block in self.blocks:
            x = block(x, keep)
        x = self.final_norm(x)
        weights = mask.unsqueeze(-1).to(x.dtype)
        return (x * weights).sum(1) / weights.sum(1)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(ids))
