"""The NumPy shortcut for linear models must answer exactly what scikit-learn's predict answers."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from greenfleet.workers.runtimes.linear import linear_predictor

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 6))
PROBE = rng.normal(size=(50, 6))


@pytest.mark.parametrize(
    ("model", "y"),
    [
        (LogisticRegression(), (X[:, 0] > 0).astype(int)),
        (LogisticRegression(), np.where(X[:, 0] > 0, "yes", "no")),
        (LogisticRegression(), np.digitize(X[:, 0], [-0.5, 0.5])),
        (LinearSVC(), np.digitize(X[:, 1], [-0.5, 0.5])),
        (LinearRegression(), X @ np.arange(6) + 1),
        (LinearRegression(), np.column_stack([X[:, 0], X[:, 1] * 2])),
        (Ridge(), X[:, 2]),
        (Lasso(alpha=0.01), X[:, 3]),
        (ElasticNet(alpha=0.01), X[:, 4]),
    ],
)
def test_same_answers_as_predict(model: object, y: np.ndarray) -> None:
    model.fit(X, y)  # type: ignore[attr-defined]
    predict = linear_predictor(model)
    assert predict is not None
    expected = model.predict(PROBE)  # type: ignore[attr-defined]
    got = predict(PROBE)
    assert got.shape == expected.shape
    if expected.dtype.kind == "f":
        assert np.allclose(got, expected, rtol=0, atol=1e-12)
    else:
        assert (got == expected).all()


def test_inputs_it_does_not_handle_go_to_predict() -> None:
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    predict = linear_predictor(model)
    assert predict is not None
    with pytest.raises(ValueError, match="NaN"):
        predict(np.full((1, 6), np.nan))
    with pytest.raises(ValueError, match="features"):
        predict(np.ones((1, 3)))


def test_pipelines_and_subclasses_are_not_shortcut() -> None:
    class Custom(LogisticRegression):
        pass

    y = (X[:, 0] > 0).astype(int)
    assert linear_predictor(make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)) is None
    assert linear_predictor(Custom().fit(X, y)) is None
