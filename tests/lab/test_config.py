from pathlib import Path

import pytest

from scalelab.core.errors import ConfigError
from scalelab.lab.config import load_run_config


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "run.toml"
    path.write_text(text)
    return path


def test_defaults_and_relative_paths(tmp_path):
    (tmp_path / "data").mkdir()
    cfg = load_run_config(_write(tmp_path, '[data]\npath = "data/my.txt"\n[output]\ndir = "out"\n'))
    assert cfg.data.path == tmp_path / "data" / "my.txt"
    assert cfg.output.dir == tmp_path / "out"
    assert cfg.model.vocab_size == 256 and cfg.train.steps > 0


def test_flags_override_the_file(tmp_path):
    cfg = load_run_config(_write(tmp_path, "[train]\nsteps = 5\n"), {"train": {"steps": 9}})
    assert cfg.train.steps == 9


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[model]\nd_modle = 64\n", "model.d_modle: unknown field"),
        ("[trian]\nsteps = 5\n", "trian: unknown field"),
        ("[model]\nd_model = 30\nn_heads = 4\n", "divisible by n_heads"),
        ("[model]\nvocab_size = 100\n", "needs >= 256"),
        ("[train]\nsteps = -1\n", "train.steps"),
        ('[data]\ncorpus = "shakespeare-sonnets"\npath = "x.txt"\n', "either corpus or path"),
        ("[model\n", "not valid TOML"),
    ],
)
def test_bad_files_name_the_file_and_field(tmp_path, text, needle):
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_run_config(path)
    message = str(err.value)
    assert needle in message and str(path) in message and "\n" not in message
