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
