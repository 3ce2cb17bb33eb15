"""The small text classifier every data experiment uses: TF-IDF unigrams + logistic
regression (scikit-learn). Strong on few labels, trains in milliseconds, deterministic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from scalelab.core.errors import ConfigError

LOGREG_C = 10.0  # weak regularization: with 10-100 labels per class the TF-IDF rows are sparse


def require_sklearn() -> None:
    """`scalelab data` experiments need scikit-learn: a missing one is one line, not a traceback."""
    try:
        import sklearn  # noqa: F401
    except ImportError:
        raise ConfigError(
            "this command needs scikit-learn: install scalelab's 'data' extra"
        ) from None


def make_vectorizer(fit_texts: Sequence[str]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    # unigrams: on 10-100 labels per class bigrams did not help and cost 3x (docs/data.md)
    vectorizer = TfidfVectorizer(sublinear_tf=True)
    try:
        return vectorizer.fit(list(fit_texts))
    except ValueError:  # scikit-learn's "empty vocabulary": no token of two letters anywhere
        raise ConfigError("the texts hold no word to learn a classifier from") from None


def fit_classifier(features: Any, labels: np.ndarray, seed: int = 0) -> Any:
    """Logistic regression on one BLAS thread: on problems this small, more threads only fight
    over the cores (measured 7 s instead of 0.03 s on a loaded 2-core machine)."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    model = LogisticRegression(C=LOGREG_C, max_iter=2000, random_state=seed)
    with threadpool_limits(1):
        return model.fit(features, labels)


@dataclass(frozen=True)
class Scores:
    accuracy_frac: float
    macro_f1_frac: float


def score(y_true: np.ndarray, y_pred: np.ndarray) -> Scores:
    from sklearn.metrics import accuracy_score, f1_score

    return Scores(
        accuracy_frac=float(accuracy_score(y_true, y_pred)),
        macro_f1_frac=float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
    )


def train_and_score(
    train_texts: Sequence[str],
    train_labels: np.ndarray,
    test_texts: Sequence[str],
    test_labels: np.ndarray,
    vectorizer_texts: Sequence[str] | None = None,
    seed: int = 0,
) -> tuple[Scores, np.ndarray]:
    """Fit TF-IDF (on `vectorizer_texts`, default the training texts) + LR; score on the test set.
    Returns the scores and the test predictions."""
    vectorizer = make_vectorizer(vectorizer_texts if vectorizer_texts is not None else train_texts)
    model = fit_classifier(vectorizer.transform(list(train_texts)), train_labels, seed)
    predicted = model.predict(vectorizer.transform(list(test_texts)))
    return score(test_labels, predicted), predicted
