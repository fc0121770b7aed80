"""The NumPy shortcut for linear models must answer exactly what scikit-learn's predict answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import ElasticNet, Lasso, LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from greenfleet.workers.runtimes.linear import fitted_predictor, linear_predictor

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 6))
PROBE = rng.normal(size=(50, 6))
PROBES = {
    "rows": PROBE,
    "one row": PROBE[:1],  # numpy multiplies one row by other BLAS kernels than a block of rows
    "float32": PROBE.astype(np.float32),
    "ints": (PROBE * 10).astype(np.int64),
}

CASES = {
    "logistic binary": (LogisticRegression, (X[:, 0] > 0).astype(int)),
    "logistic strings": (LogisticRegression, np.where(X[:, 0] > 0, "yes", "no")),
    "logistic multiclass": (LogisticRegression, np.digitize(X[:, 0], [-0.5, 0.5])),
    "logistic object labels": (
        LogisticRegression,
        np.array(["a", "b", "c"], dtype=object)[np.digitize(X[:, 0], [-0.5, 0.5])],
    ),
    "linear svc": (LinearSVC, np.digitize(X[:, 1], [-0.5, 0.5])),
    "linear regression": (LinearRegression, X @ np.arange(6) + 1),
    "linear regression 2 targets": (LinearRegression, np.column_stack([X[:, 0], X[:, 1] * 2])),
    "ridge": (Ridge, X[:, 2]),
    "ridge float32 no intercept": (lambda: Ridge(fit_intercept=False), X[:, 2]),
    "lasso": (lambda: Lasso(alpha=0.01), X[:, 3]),
    "elastic net": (lambda: ElasticNet(alpha=0.01), X[:, 4]),
}
"""The linear models the shortcut serves: name -> (estimator factory, targets to fit on ``X``)."""


def fitted(case: str) -> Any:
    """The estimator of ``CASES[case]``, fitted (on float32 data if the case says so)."""
    make, y = CASES[case]
    return make().fit(X.astype(np.float32) if "float32" in case else X, y)


def assert_identical(got: Any, expected: np.ndarray) -> None:
    """Same values, same dtype, same shape: what makes the encoded answers byte-identical."""
    got = np.asarray(got)
    assert (got.dtype, got.shape) == (expected.dtype, expected.shape)
    if expected.dtype == object:
        assert got.tolist() == expected.tolist()
    else:
        assert got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("probe", PROBES)
@pytest.mark.parametrize("case", CASES)
def test_same_answers_as_predict(case: str, probe: str) -> None:
    model = fitted(case)
    predict = linear_predictor(model)
    assert predict is not None
    assert_identical(predict(PROBES[probe]), model.predict(PROBES[probe]))


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


def test_fitted_attributes_it_cannot_serve_exactly_give_none() -> None:
    model = LogisticRegression().fit(X, np.digitize(X[:, 0], [-0.5, 0.5]))
    qualified = "sklearn.linear_model._logistic.LogisticRegression"
    good = {"coef_": model.coef_, "intercept_": model.intercept_, "n_features_in_": 6, "classes_": model.classes_}
    assert fitted_predictor(qualified, good, model.predict) is not None
    for broken in (
        {"n_features_in_": None},  # fitted before scikit-learn 0.24
        {"n_features_in_": 5},
        {"n_features_in_": True},
        {"coef_": model.coef_.astype(int)},
        {"coef_": model.coef_[:2]},  # three classes, two rows of coefficients
        {"coef_": model.coef_.tolist()},
        {"intercept_": None},
        {"intercept_": "0"},
        {"classes_": None},
        {"classes_": model.classes_[:1]},
    ):
        assert fitted_predictor(qualified, good | broken, model.predict) is None, broken
    assert fitted_predictor("sklearn.linear_model._ridge.RidgeClassifier", good, model.predict) is None
