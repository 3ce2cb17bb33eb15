"""The analytic side (core, perf, plan, hw, validate) must import and work without torch."""

import subprocess
import sys

SCRIPT = r"""
import importlib, pkgutil, sys

class BlockTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this test")
        return None

sys.meta_path.insert(0, BlockTorch())
import scalelab
for pkg in ("core", "perf", "plan", "hw", "validate"):
    mod = importlib.import_module(f"scalelab.{pkg}")
    for info in pkgutil.walk_packages(mod.__path__, f"scalelab.{pkg}."):
        importlib.import_module(info.name)
from scalelab.validate.runner import run_cases
assert run_cases(kind="model")
assert "torch" not in sys.modules
print("ok")
"""


def test_analytic_packages_import_without_torch():
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("ok")
