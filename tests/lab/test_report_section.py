"""The "Training dynamics" report section (src/scalelab/report/sections/training_dynamics.py)."""

import subprocess
import sys

import pytest

from scalelab.lab.config import load_run_config
from scalelab.lab.lm import train_language_model
from scalelab.report.sections.training_dynamics import build


@pytest.mark.slow
def test_quick_section_has_figure_table_and_numbers(tiny_run):
    run = train_language_model(load_run_config(tiny_run(6, "mine")))
    section = build(quick=True, run_dirs=[run.out_dir])
    assert section.title == "Training dynamics"
    assert len(section.figures) == 2 and all(b"<svg" in f.image[:400] for f in section.figures)
    flow, over, mine = section.tables
    assert len(flow.rows) == 6 and flow.rows[0][3] == "vanishing"
    assert [r[0] for r in over.rows][0] == "no regularization"
    assert mine.rows[0][0] == "mine"
    first = section.data["gradient_flow"][0]
    assert first["first_to_last_ratio_at_init"] <= 1e-2
    assert "vanishing" in section.summary


def test_without_torch_the_section_says_what_to_install():
    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'torch' or name.startswith('torch.'):\n"
        "            raise ImportError('blocked')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from scalelab.report.sections.training_dynamics import build\n"
        "s = build(quick=True)\n"
        "assert not s.figures and 'lab' in s.summary, s.summary\n"
        "print('ok')\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"
