"""`calibrate` with 2 local processes: every process measures at once and the collectives of
the gloo "link" become the profile's scale-up bandwidth."""

from __future__ import annotations

import pytest

from scalelab.lab.calibrate.profile import profile_mapping
from scalelab.lab.calibrate.run import calibrate

pytestmark = pytest.mark.dist


def test_two_process_calibration_measures_collectives():
    cal = calibrate("cpu", nproc=2, quick=True)
    assert cal.num_processes == 2 and cal.threads_per_process >= 1
    sizes = [r["size_bytes"] for r in cal.all_reduce]
    assert sizes == sorted(sizes) and len(sizes) >= 3
    for op in (cal.all_reduce, cal.all_gather):
        assert all(r["num_ranks"] == 2 and r["time_s"] > 0 for r in op)
    # A ring all-reduce of n = 2 moves 2(n-1)/n = 1x the bytes: busbw equals algbw.
    assert all(
        r["busbw_bytes_per_s"] == pytest.approx(r["algbw_bytes_per_s"]) for r in cal.all_reduce
    )
    profile = profile_mapping(cal)
    best = max(r["busbw_bytes_per_s"] for r in cal.all_reduce)
    assert profile["scale_up_bandwidth_gb_per_s_per_direction"] == pytest.approx(best / 1e9)
    assert profile["default_devices_per_node"] == 2
