"""Parameters of the emerging device classes, as read from a catalog entry's `[emerging]` table."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _AnalogArrays(_Params):
    """Analog matrix arrays (crossbars, photonic meshes): size, energy per MAC, converters, precision."""

    array_rows: int = Field(gt=0)
    array_cols: int = Field(gt=0)
    energy_j_per_mac: float = Field(gt=0)
    adc_j_per_conversion: float = Field(ge=0)
    dac_j_per_conversion: float = Field(ge=0)
    precision_bits: int = Field(gt=0)


class _ChipPipeline(_Params):
    """Layers pipelined over chips that pass activations to each other."""

    stage_latency_s: float = Field(gt=0)
    chip_link_bytes_per_s: float = Field(gt=0)
    chip_link_latency_s: float = Field(ge=0)
    chip_link_j_per_bit: float = Field(ge=0)


class CimParams(_AnalogArrays, _ChipPipeline):
    """Analog compute-in-memory: weights stationary in arrays; what does not fit must be rewritten."""

    device_class: Literal["cim"]
    weights_per_chip: float = Field(gt=0)
    weight_bits: int = Field(gt=0)
    reprogram_bytes_per_s: float = Field(gt=0)


class PhotonicParams(_AnalogArrays):
    """Photonic tensor core: weights stream from card memory; analog precision is limited."""

    device_class: Literal["photonic"]
    laser_w: float = Field(ge=0)
    memory_j_per_byte: float = Field(ge=0)


class FpgaParams(_ChipPipeline):
    """FPGA dataflow (Brainwave-like): all weights in on-chip SRAM, batch-1 pipelines."""

    device_class: Literal["fpga"]
    onchip_bytes: float = Field(gt=0)
    weight_bits: int = Field(gt=0)


class SystolicParams(_Params):
    """Weight-stationary systolic arrays (TPU MXU-like)."""

    device_class: Literal["systolic"]
    array_rows: int = Field(gt=0)
    array_cols: int = Field(gt=0)
    num_arrays: int = Field(gt=0)
    clock_hz: float = Field(gt=0)


EmergingParams = CimParams | PhotonicParams | FpgaParams | SystolicParams
