"""Run metrics to CSV (long format: step,name,value) and, optionally, TensorBoard event files.

Rows are flushed at every logged step, so a killed run keeps all it logged; a last row cut off
mid-write (the process died inside it) is dropped when the file is read back.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

from scalelab.core.errors import ConfigError
from scalelab.core.io import write_atomic

COLUMNS = ["step", "name", "value"]


class MetricsWriter:
    """Appends rows to OUT/metrics.csv; on resume, rows past the checkpoint step are dropped first
    (from the CSV and, via purge_step, from TensorBoard)."""

    def __init__(
        self, out_dir: Path, tensorboard: bool = False, resume_step: int | None = None
    ) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / "metrics.csv"
        if resume_step is None or not self.path.exists():
            write_atomic(self.path, ",".join(COLUMNS) + "\n")
        else:
            _truncate_after(self.path, resume_step)
        self._fh = self.path.open("a", newline="")
        self._csv = csv.writer(self._fh, lineterminator="\n")
        self._tb: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            purge = None if resume_step is None else resume_step + 1
            self._tb = SummaryWriter(log_dir=str(out_dir / "tensorboard"), purge_step=purge)

    def log(self, step: int, values: dict[str, float]) -> None:
        """Append one step's values and flush them to the OS (readable while training runs)."""
        for name, value in values.items():
            self._csv.writerow([step, name, repr(float(value))])
            if self._tb is not None and math.isfinite(value):
                self._tb.add_scalar(name, value, step)
        self._fh.flush()

    def flush(self) -> None:
        self._fh.flush()
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        self._fh.close()
        if self._tb is not None:
            self._tb.close()


def _truncate_after(path: Path, step: int) -> None:
    # A run killed after its last checkpoint left rows the resumed run will write again.
    rows = read_metrics(path)
    kept = [r for r in rows if r[0] <= step]
    lines = [",".join(COLUMNS)] + [f"{s},{n},{v!r}" for s, n, v in kept]
    write_atomic(path, "\n".join(lines) + "\n")


def read_metrics(path: Path) -> list[tuple[int, str, float]]:
    """All rows of a metrics.csv as (step, name, value); an unterminated last row (a run killed
    while writing it) is ignored, any other malformed row is a ConfigError naming the line."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.split("\n")
    lines = lines[:-1]  # after the final newline: "" — or the row a killed run left unfinished
    if not lines or lines[0].strip() != ",".join(COLUMNS):
        raise ConfigError(f"{path}: not a scalelab metrics file (header {','.join(COLUMNS)})")
    rows = []
    for number, row in enumerate(csv.reader(lines[1:]), start=2):
        try:
            step, name, value = row
            rows.append((int(step), name, float(value)))
        except ValueError:
            raise ConfigError(f"{path}: line {number} is not step,name,value") from None
    return rows


def series(rows: list[tuple[int, str, float]], name: str) -> list[tuple[int, float]]:
    """(step, value) pairs of one metric, in step order."""
    return sorted((s, v) for s, n, v in rows if n == name)
