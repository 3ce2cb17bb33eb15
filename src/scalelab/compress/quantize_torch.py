"""PyTorch int8 dynamic quantization behind one wrapper, and its safetensors form.

Engine "torch.ao": the eager `quantize_dynamic` (deprecated since torch 2.10 but still shipped in
2.13 and still the fastest torch int8 path on x86 CPUs: fbgemm/oneDNN VNNI kernels); Linear
weights int8 per output channel (symmetric), embeddings uint8 per row (float qparams).
Engine "torchao": `Int8DynamicActivationInt8WeightConfig`, chosen when the eager API is missing.
Both store the same thing on disk: per-row int8 weights, their scales and zero points.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import warnings
from collections.abc import Iterator

import torch
from torch import nn

from scalelab.core.errors import ConfigError

ENGINES = ("torch.ao", "torchao")


def legacy_available() -> bool:
    """True while torch still ships the eager `torch.ao.quantization.quantize_dynamic`."""
    try:
        import torch.ao.quantization as aq
    except ImportError:
        return False
    return hasattr(aq, "quantize_dynamic") and "x86" in torch.backends.quantized.supported_engines


def pick_engine(engine: str | None = None) -> str:
    if engine is None:
        return "torch.ao" if legacy_available() else "torchao"
    if engine not in ENGINES:
        raise ConfigError(f"--engine: unknown {engine!r} (choose from {', '.join(ENGINES)})")
    return engine


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """torch.ao warns on every call that it is deprecated; torchao logs missing CUDA kernels."""
    logger = logging.getLogger("torchao")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*deprecated.*")
            yield
    finally:
        logger.setLevel(level)


class FastPathOff(nn.Module):
    """Runs a model with `nn.MultiheadAttention`'s fused fast path off. That path reads
    `linear1.weight` as a tensor, which a dynamically quantized Linear no longer has."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, *args: torch.Tensor) -> torch.Tensor:
        previous = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)
        try:
            return self.inner(*args)
        finally:
            torch.backends.mha.set_fastpath_enabled(previous)


def _uses_mha(model: nn.Module) -> bool:
    return any(isinstance(m, nn.MultiheadAttention) for m in model.modules())


def quantize_dynamic_int8(model: nn.Module, engine: str | None = None) -> nn.Module:
    """A quantized copy of `model` for CPU inference (eval mode); `model` is left untouched."""
    engine = pick_engine(engine)
    q = copy.deepcopy(model).eval()
    with _quiet():
        if engine == "torch.ao":
            q = _legacy(q)
        else:
            _torchao(q)
    return FastPathOff(q) if _uses_mha(model) else q


def _legacy(model: nn.Module) -> nn.Module:
    import torch.ao.quantization as aq

    torch.backends.quantized.engine = "x86"
    spec = {
        nn.Linear: aq.per_channel_dynamic_qconfig,
        nn.Embedding: aq.float_qparams_weight_only_qconfig,
    }
    return aq.quantize_dynamic(model, spec, dtype=torch.qint8)


def _torchao(model: nn.Module) -> None:
    try:
        with _quiet():
            from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError:
        raise ConfigError(
            "int8-dynamic: torch.ao.quantization is gone from this torch and torchao is not "
            "installed (pip install scalelab[compress])"
        ) from None
    quantize_(model, Int8DynamicActivationInt8WeightConfig())


# ---- on disk: {module}.weight_q / .weight_scale / .weight_zero_point, everything else fp32 ----


def _quantized_weight(module: nn.Module) -> torch.Tensor | None:
    """The module's weight as a per-channel quantized torch tensor, or None if not quantized."""
    weight = getattr(module, "weight", None)
    if callable(weight) and not isinstance(weight, torch.Tensor):  # torch.ao modules
        return weight()
    if weight is not None and hasattr(weight, "qdata"):  # torchao Int8Tensor
        scale = weight.scale.reshape(-1).double()
        deq = weight.qdata.float() * scale.float()[:, None]
        return torch.quantize_per_channel(
            deq, scale, torch.zeros_like(scale, dtype=torch.int64), 0, torch.qint8
        )
    return None


def quantized_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """Tensors for safetensors: int8 weights with scales per row, other tensors as they are."""
    model = model.inner if isinstance(model, FastPathOff) else model
    out: dict[str, torch.Tensor] = {}
    for name, module in model.named_modules():
        prefix = f"{name}." if name else ""
        qw = _quantized_weight(module)
        if qw is not None:
            # Copy the qparams out through Python lists: for float-qparams embeddings the tensors
            # q_per_channel_* return can point into memory freed with the temporary `qw`.
            out[prefix + "weight_q"] = qw.int_repr().clone().contiguous()
            out[prefix + "weight_scale"] = torch.tensor(
                qw.q_per_channel_scales().tolist(), dtype=torch.float32
            )
            out[prefix + "weight_zero_point"] = torch.tensor(
                qw.q_per_channel_zero_points().tolist(), dtype=torch.float32
            )
            bias = (
                module.bias()
                if callable(getattr(module, "bias", None))
                else getattr(module, "bias", None)
            )
            if bias is not None:
                out[prefix + "bias"] = bias.detach().float().contiguous()
            continue
        for pname, t in list(module.named_parameters(recurse=False)) + list(
            module.named_buffers(recurse=False)
        ):
            out[prefix + pname] = t.detach().contiguous()
    return out


def _dequantized(tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """fp32 weights (the int8 values times their scales) under the float model's names."""
    out = {
        k: v
        for k, v in tensors.items()
        if not k.endswith(("weight_q", "weight_scale", "weight_zero_point"))
    }
    for key in tensors:
        if key.endswith("weight_q"):
            base = key[: -len("weight_q")]
            q, s, z = (
                tensors[key].float(),
                tensors[base + "weight_scale"],
                tensors[base + "weight_zero_point"],
            )
            out[base + "weight"] = (q - z[:, None]) * s[:, None]
    return out


def load_quantized(
    skeleton: nn.Module, tensors: dict[str, torch.Tensor], engine: str | None = None
) -> nn.Module:
    """Rebuild a quantized model from `quantized_state` output on a float `skeleton` of the same shape.

    The float weights are set to the dequantized values and quantized again with the stored scales,
    which reproduces the stored integers exactly."""
    engine = pick_engine(engine)
    try:
        skeleton.load_state_dict(_dequantized(tensors), strict=True)
    except RuntimeError as exc:
        raise ConfigError(
            f"int8 weights do not match the model: {str(exc).splitlines()[0]}"
        ) from None
    model = quantize_dynamic_int8(skeleton, engine)
    if engine == "torchao":
        return model
    inner = model.inner if isinstance(model, FastPathOff) else model
    for name, module in inner.named_modules():
        prefix = f"{name}." if name else ""
        if prefix + "weight_q" not in tensors:
            continue
        qw = module.weight()
        deq = _dequantized(
            {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix + "weight_")}
        )["weight"]
        zp = tensors[prefix + "weight_zero_point"]
        zp = zp if qw.qscheme() == torch.per_channel_affine_float_qparams else zp.to(torch.int64)
        exact = torch.quantize_per_channel(
            deq, tensors[prefix + "weight_scale"].double(), zp, 0, qw.dtype
        )
        if hasattr(module, "set_weight_bias"):
            module.set_weight_bias(exact, module.bias())
        else:
            module.set_weight(exact)
    return model
