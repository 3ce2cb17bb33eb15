"""On the tiny BBC teacher: int8 accuracy, distillation vs alone, and the benchmark's ratios."""

import pytest
import torch

from scalelab.compress.bench import bench_paths
from scalelab.compress.train import TrainSettings
from scalelab.compress.workflow import distill, export, quantize, task_for

pytestmark = pytest.mark.slow


def test_int8_variants_within_one_point_of_fp32(teacher, tmp_path):
    onnx = tmp_path / "t.onnx"
    export(teacher, onnx)
    paths = [teacher, onnx, tmp_path / "a.safetensors", tmp_path / "b.onnx", tmp_path / "c.onnx"]
    quantize(teacher, "int8-dynamic", "torch", paths[2])
    quantize(teacher, "int8-dynamic", "onnxruntime", paths[3], onnx_fp32=onnx)
    quantize(teacher, "int8-static", "onnxruntime", paths[4], calib=64, onnx_fp32=onnx)
    result = bench_paths(paths, repeats=3)
    base = result.rows[0]
    assert base.accuracy_frac > 0.5  # a real classifier (5 classes: chance is about 0.23)
    for row in result.rows[2:]:
        assert abs(row.accuracy_frac - base.accuracy_frac) <= 0.01, row.label
        assert row.size_bytes < base.size_bytes, row.label
    ratios = result.ratios(base)
    assert ratios["size_ratio"] == 1.0 and ratios["speedup_b1_ratio"] == 1.0


def test_distillation_result_and_its_note_agree(teacher, tmp_path):
    from scalelab.report.sections.compress import distill_table

    r = distill(teacher, 1, 16, tmp_path / "s", heads=2, seeds=2,
                settings=TrainSettings(epochs=2, batch_size=16, lr=3e-3))  # fmt: skip
    d = r.to_dict()
    assert len(d["alone_accuracy_frac"]) == len(d["distilled_accuracy_frac"]) == 2
    assert r.distillation_helps == (sum(r.distilled_accuracy_frac) > sum(r.alone_accuracy_frac))
    note = distill_table(d).note
    assert ("does NOT beat" in note) != r.distillation_helps
    assert (tmp_path / "s" / "latest").exists()


def test_calibration_uses_training_examples_only(teacher):
    from scalelab.compress.store import load_classifier
    from scalelab.compress.workflow import calib_examples

    task = task_for(load_classifier(teacher)[1])
    calib = torch.from_numpy(calib_examples(task, 50))
    train_rows = {tuple(r) for r in task.train.ids.tolist()}
    assert all(tuple(r) in train_rows for r in calib.tolist())
