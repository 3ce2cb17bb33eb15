"""Apply a ParallelDims to the lab's Transformer (or one pipeline stage of it), in one order:

1. tensor parallel (DTensor): q/k/v and FFN up/gate column-wise, attention and FFN output
   projections row-wise (Megatron-LM, Shoeybi et al. 2019, sec. 3); with sequence parallel the
   norms and the residual stream are split along the sequence (Korthikanti et al. 2022, sec. 4);
2. activation recompute (`recompute = "full"`): every block re-runs its forward in backward;
3. data parallel: FSDP2 `fully_shard` per block then the root (ZeRO-2/3), or DDP (ZeRO-0).

Embeddings and the output head stay replicated over tp, so the loss sees whole logits.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.fsdp import fully_shard
from torch.distributed.tensor import Replicate, Shard
from torch.distributed.tensor.parallel import (
    ColwiseParallel,
    PrepareModuleInput,
    RowwiseParallel,
    SequenceParallel,
    parallelize_module,
)
from torch.nn.parallel import DistributedDataParallel

from scalelab.lab.parallel.dims import ParallelDims


def blocks_of(model: nn.Module) -> list[nn.Module]:
    """The transformer blocks a model or stage holds (ModuleList or ModuleDict)."""
    blocks = model.blocks
    return list(blocks.values()) if isinstance(blocks, nn.ModuleDict) else list(blocks)


def _block_plan(block: nn.Module, sp: bool) -> dict[str, Any]:
    out = Shard(1) if sp else Replicate()
    plan: dict[str, Any] = {
        "attn.q": ColwiseParallel(),
        "attn.k": ColwiseParallel(),
        "attn.v": ColwiseParallel(),
        "attn.proj": RowwiseParallel(output_layouts=out),
        "ffn.up": ColwiseParallel(),
        "ffn.proj": RowwiseParallel(output_layouts=out),
    }
    if block.ffn.gate is not None:
        plan["ffn.gate"] = ColwiseParallel()
    if sp:
        gather = PrepareModuleInput(input_layouts=(Shard(1),), desired_input_layouts=(Replicate(),))
        plan.update({"norm1": SequenceParallel(), "norm2": SequenceParallel()})
        plan.update({"attn": gather, "ffn": gather})
    return plan


def apply_tensor_parallel(model: nn.Module, tp_mesh: DeviceMesh, sequence_parallel: bool) -> None:
    """Shard heads and FFN columns over `tp_mesh`; with sequence parallel the residual stream
    between blocks is the local (batch, seq/tp, d) slice."""
    blocks = blocks_of(model)
    for block in blocks:
        parallelize_module(block, tp_mesh, _block_plan(block, sequence_parallel))
    if not sequence_parallel:
        return
    # Enter the sequence-split region at the first block after the embeddings, leave it before
    # the head; between pipeline stages the activations travel already split.
    if hasattr(model, "tok_emb"):
        enter = PrepareModuleInput(
            input_layouts=(Replicate(),), desired_input_layouts=(Shard(1),), use_local_output=True
        )
        parallelize_module(blocks[0], tp_mesh, enter)
    if hasattr(model, "head"):
        parallelize_module(model.final_norm, tp_mesh, SequenceParallel())
        parallelize_module(
            model.head,
            tp_mesh,
            PrepareModuleInput(
                input_layouts=(Shard(1),),
                desired_input_layouts=(Replicate(),),
                use_local_output=True,
            ),
        )


def apply_recompute(model: nn.Module) -> None:
    """Full activation recompute: each block keeps only its input for backward."""
    from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import checkpoint_wrapper

    container = model.blocks
    for key, block in list(container.named_children()):
        wrapped = checkpoint_wrapper(block, preserve_rng_state=True)
        container.register_module(key, wrapped)


def apply_fsdp(model: nn.Module, dp_mesh: DeviceMesh, reshard_after_forward: bool) -> None:
    """FSDP2: one parameter group per block, the rest (embeddings, norm, head) in the root."""
    for block in blocks_of(model):
        fully_shard(block, mesh=dp_mesh, reshard_after_forward=reshard_after_forward)
    fully_shard(model, mesh=dp_mesh, reshard_after_forward=reshard_after_forward)


def parallelize(model: nn.Module, dims: ParallelDims, mesh: DeviceMesh) -> nn.Module:
    """TP -> recompute -> FSDP/DDP on `model` (a Transformer or a pipeline stage); returns the
    module to train (a DDP wrapper under plain data parallelism, else `model` itself)."""
    if dims.tp > 1:
        apply_tensor_parallel(model, mesh["tp"], dims.sequence_parallel)
    if dims.recompute == "full":
        apply_recompute(model)
    if dims.dp_mode == "fsdp":
        apply_fsdp(model, mesh["dp_shard"], reshard_after_forward=dims.zero_stage == 3)
    elif dims.dp_mode == "ddp" and (dims.tp > 1 or dims.pp > 1):
        # DDP rejects DTensor parameters and mis-buckets the several backward passes of a
        # pipeline step; FSDP2 over a (replicate = dp, shard = 1) mesh is the same all-reduce.
        apply_fsdp(model, mesh["dp_replicate", "dp_shard"], reshard_after_forward=False)
    elif dims.dp_mode == "ddp":
        ids = [torch.cuda.current_device()] if mesh.device_type == "cuda" else None
        group = mesh["dp_replicate"].get_group()
        return DistributedDataParallel(model, process_group=group, device_ids=ids)
    return model
