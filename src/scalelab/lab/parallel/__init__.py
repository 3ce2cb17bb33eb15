"""The lab's transformer under a ParallelPlan with PyTorch's own distributed stack.

DDP, FSDP2 (`fully_shard`), tensor/sequence parallel (DTensor), pipeline parallel
(`torch.distributed.pipelining`) and their combinations on one DeviceMesh; distributed
checkpoints that reshard; torchrun launch with restarts. The model file stays single-device.
"""
