"""scalelab: a calibrated performance model and a PyTorch lab for scaling large language models."""

__version__ = "0.1.0"
