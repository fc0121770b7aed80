"""Exact NumPy prediction for fitted scikit-learn linear models.

scikit-learn spends ~150-200 µs per ``predict`` call on input validation and array-API dispatch,
which on one row is most of a request's budget. For a few linear models whose ``predict`` is plain
algebra on ``coef_``/``intercept_`` (exact classes only: a subclass may override ``predict``), this
module computes the same answer directly. Inputs the shortcut does not handle exactly (non-numeric,
wrong width, NaN/inf, sparse) go to the model's own ``predict``, which also raises its usual errors.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Predict", "linear_predictor"]

Predict = Callable[[NDArray[Any]], Any]

_CLASSIFIERS = frozenset(
    {
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.svm._classes.LinearSVC",
    }
)
_REGRESSORS = frozenset(
    {
        "sklearn.linear_model._base.LinearRegression",
        "sklearn.linear_model._ridge.Ridge",
        "sklearn.linear_model._coordinate_descent.Lasso",
        "sklearn.linear_model._coordinate_descent.ElasticNet",
    }
)


def linear_predictor(model: Any) -> Predict | None:
    """A fast ``predict`` equal to ``model.predict``, or None when ``model`` is not one we know."""
    cls = type(model)
    qualified = f"{cls.__module__}.{cls.__qualname__}"
    coef = getattr(model, "coef_", None)
    intercept = getattr(model, "intercept_", None)
    width = getattr(model, "n_features_in_", None)
    if not isinstance(coef, np.ndarray) or width is None or coef.dtype.kind != "f":
        return None
    if qualified in _CLASSIFIERS:
        return _classifier(model, coef, intercept, int(width))
    if qualified in _REGRESSORS:
        return _regressor(model, coef, intercept, int(width))
    return None


def _fits(rows: NDArray[Any], width: int) -> bool:
    return (
        isinstance(rows, np.ndarray)
        and rows.ndim == 2
        and rows.shape[1] == width
        and rows.dtype.kind in "fiu"
        and bool(np.isfinite(rows).all())
    )


def _classifier(model: Any, coef: NDArray[Any], intercept: Any, width: int) -> Predict | None:
    classes = getattr(model, "classes_", None)
    if coef.ndim != 2 or not isinstance(classes, np.ndarray):
        return None
    weights = np.ascontiguousarray(coef.T)
    bias = np.asarray(intercept, dtype=coef.dtype)

    def predict(rows: NDArray[Any]) -> Any:
        if not _fits(rows, width):
            return model.predict(rows)
        scores = rows @ weights + bias
        if scores.shape[1] == 1:
            return classes[(scores[:, 0] > 0).astype(np.intp)]
        return classes[scores.argmax(axis=1)]

    return predict


def _regressor(model: Any, coef: NDArray[Any], intercept: Any, width: int) -> Predict:
    weights = np.ascontiguousarray(coef.T)
    bias = np.asarray(intercept, dtype=coef.dtype)

    def predict(rows: NDArray[Any]) -> Any:
        if not _fits(rows, width):
            return model.predict(rows)
        return rows @ weights + bias

    return predict
