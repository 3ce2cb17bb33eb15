"""The lab: real PyTorch training at small scale, with gradient-flow and overfitting diagnostics.

torch comes with the `lab` extra; importing this package alone does not import torch.
"""
