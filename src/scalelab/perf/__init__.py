"""The analytic performance model: model arithmetic, kernels, communication, memory, pipeline
schedules, the training step, inference and serving, energy and money. numpy only, no torch."""
