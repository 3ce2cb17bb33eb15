import math

from scalelab.lab.diagnostics.overfit import EarlyStopping, Gap


def test_gap_signs():
    g = Gap(train_loss=0.1, val_loss=0.5, train_acc_frac=1.0, val_acc_frac=0.9)
    assert math.isclose(g.loss_gap, 0.4) and math.isclose(g.acc_gap_frac, 0.1)


def test_early_stopping_waits_patience_evals():
    es = EarlyStopping(patience=2)
    assert not es.update(10, 1.0)
    assert not es.update(20, 0.8)
    assert not es.update(30, 0.9)
    assert es.update(40, 0.85)
    assert (es.best_step, es.best_loss) == (20, 0.8)


def test_patience_zero_never_stops_and_state_roundtrips():
    es = EarlyStopping(patience=0)
    assert not any(es.update(s, 1.0 + s) for s in range(10))
    fresh = EarlyStopping(patience=0)
    fresh.load_state_dict(es.state_dict())
    assert (fresh.best_step, fresh.best_loss, fresh.bad_evals) == (0, 1.0, 9)
    empty = EarlyStopping()
    empty.load_state_dict(EarlyStopping().state_dict())
    assert empty.best_loss == math.inf
