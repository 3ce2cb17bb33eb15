from scalelab.lab.metrics import MetricsWriter, read_metrics, series


def test_csv_roundtrip_and_truncation_on_resume(tmp_path):
    w = MetricsWriter(tmp_path)
    for step in range(6):
        w.log(step, {"train/loss": 10.0 - step})
    w.close()
    assert series(read_metrics(tmp_path / "metrics.csv"), "train/loss")[-1] == (5, 5.0)
    resumed = MetricsWriter(tmp_path, resume_step=3)
    resumed.log(4, {"train/loss": 1.5})
    resumed.close()
    rows = series(read_metrics(tmp_path / "metrics.csv"), "train/loss")
    assert rows == [(0, 10.0), (1, 9.0), (2, 8.0), (3, 7.0), (4, 1.5)]


def test_tensorboard_events_written(tmp_path):
    w = MetricsWriter(tmp_path, tensorboard=True)
    w.log(0, {"train/loss": 1.0})
    w.close()
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))


def test_rows_reach_the_file_at_every_logged_step(tmp_path):
    w = MetricsWriter(tmp_path)
    w.log(0, {"train/loss": 3.0})
    w.log(1, {"train/loss": 2.0})
    # Another reader (or a run killed right now) sees both rows without close().
    assert series(read_metrics(tmp_path / "metrics.csv"), "train/loss") == [(0, 3.0), (1, 2.0)]
    w.close()


def test_a_row_cut_off_by_a_kill_is_dropped_on_resume(tmp_path):
    w = MetricsWriter(tmp_path)
    for step in range(4):
        w.log(step, {"train/loss": 10.0 - step})
    w.close()
    path = tmp_path / "metrics.csv"
    path.write_text(path.read_text() + "4,train/lo")  # the process died inside this row
    assert series(read_metrics(path), "train/loss")[-1] == (3, 7.0)
    resumed = MetricsWriter(tmp_path, resume_step=2)
    resumed.log(3, {"train/loss": 0.5})
    resumed.close()
    assert series(read_metrics(path), "train/loss") == [(0, 10.0), (1, 9.0), (2, 8.0), (3, 0.5)]


def test_a_malformed_row_in_the_middle_names_the_line(tmp_path):
    import pytest

    from scalelab.core.errors import ConfigError

    path = tmp_path / "metrics.csv"
    path.write_text("step,name,value\n0,a,1.0\nnot,a,row\n1,a,2.0\n")
    with pytest.raises(ConfigError, match="line 3"):
        read_metrics(path)
