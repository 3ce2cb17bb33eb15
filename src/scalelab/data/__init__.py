"""The data dimension: shipped text data sets, augmentation, self-training, audit and dedup, and
how much text a model needs (docs/data.md). Stands on `scalelab.core` only."""
