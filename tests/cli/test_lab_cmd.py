"""`scalelab train` and `scalelab diagnose`: JSON numbers, files, and one-line errors (exit 1)."""

import json
from pathlib import Path

import pytest
import torch  # noqa: F401  (fails, not skips, without the lab extra)

RUN = """
[model]
d_model = 32
n_layers = 2
n_heads = 2
seq_len = 32

[train]
steps = 4
batch_size = 4
eval_every = 4
eval_batches = 2
device = "cpu"
diagnostics_every = 2

[output]
dir = "out"
tensorboard = false
sample_bytes = 16
"""


def _run_file(tmp_path: Path, text: str = RUN) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def _one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 1
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "error:" in lines[0] and "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_gradient_flow_json_carries_the_numbers(cli, tmp_path):
    plot = tmp_path / "flow.png"
    code, out, err = cli("diagnose", "gradient-flow", "--depth", "50", "--residual", "off", "--norm", "none",
                         "--steps", "6", "--plot", str(plot), "--json")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)["results"]
    assert len(data["grad_norm_by_layer"]) == 50
    assert data["first_to_last_ratio"] <= 1e-2 and data["verdict"] == "vanishing"
    assert data["first_to_last_ratio_at_init"] == pytest.approx(
        data["grad_norm_by_layer"][0] / data["grad_norm_by_layer"][-1]
    )
    assert plot.read_bytes().startswith(b"\x89PNG")


def test_gradient_flow_residual_norm_is_healthy_and_table_prints(cli):
    code, out, err = cli(
        "diagnose", "gradient-flow", "--residual", "on", "--norm", "pre", "--steps", "6"
    )
    assert code == 0, err
    assert "healthy" in out and "Gradient flow" in out


def test_overfitting_json(cli):
    code, out, err = cli("diagnose", "overfitting", "--seeds", "1", "--steps", "100", "--json")
    assert code == 0, err
    data = json.loads(out)["results"]
    assert [r["regime"] for r in data["regimes"]] == ["none", "dropout", "weight_decay", "l2"]
    assert all("loss_gap_mean" in r and "val_acc_mean_frac" in r for r in data["regimes"])


def test_train_json_then_resume(cli, tmp_path):
    run = _run_file(tmp_path)
    code, out, err = cli("train", str(run), "--stop-after", "2", "--json")
    assert code == 0, err
    assert json.loads(out)["results"]["steps"] == 2
    code, out, err = cli("train", str(run), "--resume", "--json")
    assert code == 0, err
    data = json.loads(out)["results"]
    assert data["steps"] == 4 and data["resumed_from"] == 2
    assert data["val_loss"] > 0 and data["val_perplexity"] > 1 and isinstance(data["sample"], str)
    assert (tmp_path / "out" / "metrics.csv").is_file()


def test_train_table_output_on_a_user_file(cli, tmp_path):
    (tmp_path / "mine.txt").write_text("the quick brown fox jumps over the lazy dog. " * 40)
    run = _run_file(tmp_path, RUN + '\n[data]\npath = "mine.txt"\n')
    code, out, err = cli("train", str(run))
    assert code == 0, err
    assert "validation perplexity" in out and "sample" in out


@pytest.mark.parametrize(
    ("extra", "needles"),
    [
        ("\n[optim]\nlearning_rate = 1.0\n", ["optim.learning_rate", "unknown field"]),
        ('\n[data]\npath = "missing.txt"\n', ["data.path", "missing.txt"]),
        ("\n[data]\nval_frac = 0.0002\n", ["run.toml", "seq_len"]),
        ("\n[optim]\nlr = nan\n", ["run.toml", "optim.lr", "finite"]),
        ("\n[optim]\nlr = inf\n", ["run.toml", "optim.lr", "finite"]),
    ],
)
def test_bad_run_files_are_one_line_errors(cli, tmp_path, extra, needles):
    code, _, err = cli("train", str(_run_file(tmp_path, RUN + extra)))
    _one_line_error(code, err, *needles)


def test_impossible_shape_is_one_line_error(cli, tmp_path):
    code, _, err = cli("train", str(_run_file(tmp_path, RUN.replace("n_heads = 2", "n_heads = 3"))))
    _one_line_error(code, err, "run.toml", "divisible by n_heads")


def test_missing_run_file_and_resume_without_checkpoint(cli, tmp_path):
    _one_line_error(*cli("train", str(tmp_path / "nope.toml"))[::2], "file not found")
    _one_line_error(*cli("train", str(_run_file(tmp_path)), "--resume")[::2], "nothing to resume")


def test_corrupted_checkpoint_is_one_line_error(cli, tmp_path):
    run = _run_file(tmp_path)
    assert cli("train", str(run), "--stop-after", "2")[0] == 0
    rng_file = tmp_path / "out" / "checkpoints" / "step_00000002" / "rng.safetensors"
    rng_file.write_bytes(b"garbage")
    _one_line_error(*cli("train", str(run), "--resume")[::2], "rng.safetensors")


def test_bad_plot_suffix(cli, tmp_path):
    code, _, err = cli(
        "diagnose",
        "gradient-flow",
        "--depth",
        "3",
        "--steps",
        "1",
        "--plot",
        str(tmp_path / "x.jpg"),
    )
    _one_line_error(code, err, "--plot")


def test_help_works_and_train_explains_without_torch(tmp_path):
    import subprocess
    import sys

    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from scalelab.cli.main import run\n"
        "run()\n"
    )
    help_proc = subprocess.run([sys.executable, "-c", script, "diagnose", "--help"],
                               capture_output=True, text=True, timeout=120)  # fmt: skip
    assert help_proc.returncode == 0 and "gradient-flow" in help_proc.stdout
    train = subprocess.run([sys.executable, "-c", script, "train", str(_run_file(tmp_path))],
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    _one_line_error(train.returncode, train.stderr, "'lab' extra")


def test_divergence_is_one_line_error(cli, tmp_path):
    code, _, err = cli("train", str(_run_file(tmp_path, RUN + "\n[optim]\nlr = 1e30\n")))
    _one_line_error(code, err, "training diverged", "no checkpoint was written", "optim.lr")
    assert not (tmp_path / "out" / "checkpoints").exists()


def test_every_damaged_checkpoint_file_is_one_line_error(cli, tmp_path):
    import shutil

    run = _run_file(tmp_path)
    assert cli("train", str(run), "--stop-after", "2")[0] == 0
    ckpt = tmp_path / "out" / "checkpoints" / "step_00000002"
    pristine = tmp_path / "pristine"
    shutil.copytree(ckpt, pristine)
    for f in sorted(pristine.iterdir()):
        shutil.rmtree(ckpt)
        shutil.copytree(pristine, ckpt)
        data = bytearray((ckpt / f.name).read_bytes())
        data[len(data) // 2] ^= 0x01
        (ckpt / f.name).write_bytes(bytes(data))
        code, _, err = cli("train", str(run), "--resume")
        _one_line_error(code, err, "step_00000002")
    shutil.rmtree(ckpt)
    shutil.copytree(pristine, ckpt)
    assert cli("train", str(run), "--resume")[0] == 0  # undamaged, it resumes


def test_resume_tolerates_a_metrics_row_cut_off_by_a_kill(cli, tmp_path):
    run = _run_file(tmp_path)
    assert cli("train", str(run), "--stop-after", "2")[0] == 0
    metrics = tmp_path / "out" / "metrics.csv"
    metrics.write_text(metrics.read_text() + "3,train/lo")
    code, _, err = cli("train", str(run), "--resume")
    assert code == 0, err
    assert "train/lo\n" not in metrics.read_text() and metrics.read_text().endswith("\n")


def test_out_flag_to_a_file_in_place_of_a_folder_is_one_line_error(cli, tmp_path):
    (tmp_path / "taken").write_text("x")
    code, _, err = cli("train", str(_run_file(tmp_path)), "--out", str(tmp_path / "taken"))
    _one_line_error(code, err, "taken")


@pytest.mark.parametrize(
    "flags", [["--nproc", "100000"], ["--nproc", "2", "--max-restarts", "1000"]]
)
def test_process_counts_are_bounded(cli, tmp_path, flags):
    code, _, err = cli("train", str(_run_file(tmp_path, RUN + "\n[parallel]\n")), *flags)
    _one_line_error(code, err, flags[-2])
