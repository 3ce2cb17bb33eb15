"""Compression measured on a real task: int8/int4 quantization (PyTorch and ONNX Runtime), ONNX
export, knowledge distillation, and a benchmark of size, latency and accuracy per variant."""
