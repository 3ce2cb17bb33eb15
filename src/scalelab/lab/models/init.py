"""Activation functions and weight-initialization schemes by name, shared by every lab model."""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import nn

Activation = Literal["tanh", "relu", "gelu", "sigmoid", "silu"]
InitScheme = Literal["default", "xavier", "kaiming", "normal"]

_ACTIVATIONS: dict[str, type[nn.Module]] = {
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "sigmoid": nn.Sigmoid,
    "silu": nn.SiLU,
}


def make_activation(name: Activation) -> nn.Module:
    return _ACTIVATIONS[name]()


def _gain(activation: Activation) -> float:
    # torch.nn.init.calculate_gain has no entry for gelu/silu; relu's sqrt(2) is the usual stand-in.
    if activation in ("tanh", "relu", "sigmoid"):
        return nn.init.calculate_gain(activation)
    return math.sqrt(2.0)


@torch.no_grad()
def init_linear(
    layer: nn.Linear, scheme: InitScheme, activation: Activation, std: float = 0.02
) -> None:
    """Re-initialize one Linear layer in place.

    default: PyTorch's own (U(+-1/sqrt(fan_in)) for weights and biases, variance 1/(3 fan_in));
    xavier: Glorot & Bengio 2010 eq. 16 with the activation's gain; kaiming: He et al. 2015
    eq. 10 (normal, fan_in, gain sqrt(2)); normal: N(0, std) as in GPT-2. Biases become zero
    except under `default`.
    """
    if scheme == "default":
        layer.reset_parameters()
        return
    if scheme == "xavier":
        nn.init.xavier_uniform_(layer.weight, gain=_gain(activation))
    elif scheme == "kaiming":
        nn.init.kaiming_normal_(layer.weight, nonlinearity="relu")
    elif scheme == "normal":
        nn.init.normal_(layer.weight, mean=0.0, std=std)
    else:
        raise ValueError(f"unknown init scheme {scheme!r}")
    if layer.bias is not None:
        nn.init.zeros_(layer.bias)
