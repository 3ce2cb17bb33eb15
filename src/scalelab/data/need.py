"""How much text a model needs: compute-optimal tokens (Hoffmann et al. 2022, "Training
Compute-Optimal Large Language Models"), the bytes of text that is, and how far repeating the data
stretches it (Muennighoff et al. 2023, "Scaling Data-Constrained Language Models").

Pure arithmetic on counts; time and money come from the performance model in the CLI/report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scalelab.core.errors import ConfigError
from scalelab.core.specs import ModelSpec

TOKENS_PER_PARAM = 20.0  # Hoffmann et al. 2022, Table 3 (approaches 1-2): ~20 tokens per parameter
BYTES_PER_TOKEN = 4.0  # English BPE (GPT-2/Llama-class tokenizers): ~4 characters ~ 4 UTF-8 bytes
R_STAR_D = 15.4  # Muennighoff et al. 2023, eq. 5 fit: repeated data's value decays with R*_D


@dataclass(frozen=True)
class LossLaw:
    """L(N, D) = E + A / N^alpha + B / D^beta (Hoffmann et al. 2022, eq. 2)."""

    name: str
    e: float
    a: float
    b: float
    alpha: float
    beta: float

    def loss(self, params: float, tokens: float) -> float:
        return self.e + self.a / params**self.alpha + self.b / tokens**self.beta

    def optimal_tokens(self, params: float) -> float:
        """D minimizing L at fixed compute C = 6ND for this N (Hoffmann et al. 2022, eq. 4:
        N_opt = G (C/6)^a, D_opt = G^-1 (C/6)^b, G = (alpha A / (beta B))^(1/(alpha+beta)))."""
        g = (self.alpha * self.a / (self.beta * self.b)) ** (1 / (self.alpha + self.beta))
        a_exp = self.beta / (self.alpha + self.beta)
        b_exp = self.alpha / (self.alpha + self.beta)
        c_over_6 = (params / g) ** (1 / a_exp)
        return c_over_6**b_exp / g


# Hoffmann et al. 2022, sec. 3.3 / eq. 10 (approach 3 fit)
HOFFMANN = LossLaw("Hoffmann et al. 2022 (approach 3)", 1.69, 406.4, 410.7, 0.34, 0.28)
# Besiroglu et al. 2024, "Chinchilla Scaling: A replication attempt", eq. 4 (refit of approach 3)
BESIROGLU = LossLaw("Besiroglu et al. 2024 (replication)", 1.82, 482.01, 2085.43, 0.3478, 0.3658)

PUBLISHED_RUNS = {  # total tokens trained, parameters (total, active)
    "DeepSeek-V3": (14.8e12, 671e9, 37e9),  # DeepSeek-V3 technical report, sec. 4.1 / abstract
    "Llama 3 405B": (15.6e12, 405e9, 405e9),  # The Llama 3 Herd of Models, sec. 3.3.4
    "Llama 3 8B": (15e12, 8e9, 8e9),  # Llama 3 model card: "over 15T tokens"
}
CATALOG_RUNS = {"deepseek-v3": "DeepSeek-V3", "llama-3.1-405b": "Llama 3 405B",
                "llama-3.1-8b": "Llama 3 8B"}  # fmt: skip


def effective_tokens(unique_tokens: float, epochs: float, r_star: float = R_STAR_D) -> float:
    """D' = U + U R* (1 - exp(-R/R*)), R = epochs - 1 (Muennighoff et al. 2023, eq. 5)."""
    repeats = max(0.0, epochs - 1.0)
    return unique_tokens * (1.0 + r_star * (1.0 - math.exp(-repeats / r_star)))


def unique_tokens_needed(target_tokens: float, epochs: float) -> float:
    """Unique tokens that, seen `epochs` times, are worth `target_tokens` fresh ones (eq. 5)."""
    return target_tokens / effective_tokens(1.0, epochs)


@dataclass(frozen=True)
class EpochOption:
    epochs: float
    unique_tokens: float
    unique_bytes: float
    tokens_trained: float  # unique x epochs: what the compute pays for


@dataclass(frozen=True)
class DataNeed:
    params: float  # the N the laws use (active parameters for MoE)
    total_params: float
    tokens: float  # compute-optimal, TOKENS_PER_PARAM x N
    bytes: float
    bytes_per_token: float
    tokens_per_param: float
    fitted: dict[str, float]  # law name -> compute-optimal tokens from the fitted law
    loss_at_optimum: dict[str, float]
    epochs: tuple[EpochOption, ...]
    method: str


def data_need(
    params: float,
    total_params: float | None = None,
    bytes_per_token: float = BYTES_PER_TOKEN,
    tokens_per_param: float = TOKENS_PER_PARAM,
    epochs: tuple[float, ...] = (1, 2, 4, 8, 16),
) -> DataNeed:
    """Tokens and bytes of text for a model of `params` parameters (see the module docstring)."""
    if not params > 0:
        raise ConfigError(f"--params: must be > 0 (got {params})")
    if not bytes_per_token > 0:
        raise ConfigError(f"--bytes-per-token: must be > 0 (got {bytes_per_token})")
    tokens = tokens_per_param * params
    options = []
    for e in epochs:
        unique = unique_tokens_needed(tokens, e)
        options.append(EpochOption(e, unique, unique * bytes_per_token, unique * e))
    return DataNeed(
        params=params,
        total_params=total_params or params,
        tokens=tokens,
        bytes=tokens * bytes_per_token,
        bytes_per_token=bytes_per_token,
        tokens_per_param=tokens_per_param,
        fitted={law.name: law.optimal_tokens(params) for law in (HOFFMANN, BESIROGLU)},
        loss_at_optimum={law.name: law.loss(params, tokens) for law in (HOFFMANN, BESIROGLU)},
        epochs=tuple(options),
        method=(
            f"compute-optimal tokens = {tokens_per_param:g} x parameters (Hoffmann et al. 2022, "
            f"Table 3); bytes = tokens x {bytes_per_token:g} B/token (English BPE); repeated "
            f"epochs valued by Muennighoff et al. 2023 eq. 5 (R*_D = {R_STAR_D})"
        ),
    )


def tb_scale_claim(params: float = 100e9) -> dict[str, float | str]:
    """The numbers behind the seed's claim "a 100B-parameter model needs TB-scale text"
    (claims ledger): compute-optimal tokens, the bytes of text, and the method."""
    need = data_need(params)
    return {
        "params": params,
        "tokens": need.tokens,
        "bytes": need.bytes,
        "terabytes": need.bytes / 1e12,
        "unique_bytes_at_4_epochs": need.epochs[2].unique_bytes,
        "method": need.method,
    }


def dense_model_for_params(params: float, vocab_size: int = 128256) -> ModelSpec:
    """A Llama-shaped dense model of about `params` parameters, for time/cost estimates: hidden h
    ~ 128 x layers (Llama 3 70B: h/L = 102; Kaplan et al. 2020 fig. 5: aspect ratios 50-200 are
    all near-optimal), a multiple of 1024; 128-dim heads, 8 KV heads, SwiGLU FFN of 8h/3; the
    layer count then matches `params` (q, o: h^2 each; k, v: h x 1024; FFN 3 h ffn; 2 V h)."""
    if not params >= 1e8:
        raise ConfigError(
            f"--params: need at least 1e8 parameters for a model shape (got {params})"
        )
    layers_guess = (params / (12 * 128**2)) ** (1 / 3)
    hidden = max(1024, round(128 * layers_guess / 1024) * 1024)
    ffn = round(8 * hidden / 3 / 256) * 256
    per_layer = 2 * hidden * hidden + 2 * hidden * 8 * 128 + 3 * hidden * ffn
    layers = max(2, round((params - 2 * vocab_size * hidden) / per_layer))
    return ModelSpec(
        name=f"dense {params / 1e9:g}B (shape chosen by scalelab)",
        num_layers=layers,
        hidden_size=hidden,
        num_attention_heads=hidden // 128,
        num_key_value_heads=8,
        ffn_hidden_size=ffn,
        vocab_size=vocab_size,
    )
