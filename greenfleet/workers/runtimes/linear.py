"""Exact NumPy prediction for fitted scikit-learn linear models.

scikit-learn spends ~150-200 µs per ``predict`` call on input validation and array-API dispatch,
which on one row is most of a request's budget. For a few linear models whose ``predict`` is plain
algebra on ``coef_``/``intercept_`` (exact classes only: a subclass may override ``predict``), this
module computes the same answer directly, with scikit-learn's own expression (``X @ coef_.T +
intercept_``, then the class of the best score), so values and dtypes are identical. Inputs the
shortcut does not handle exactly (non-numeric, wrong width, NaN/inf, sparse) go to a fallback, the
model's own ``predict``, which also raises its usual errors.

The shortcut needs only the fitted arrays, not the estimator: :func:`fitted_predictor` takes them
from a pickle read without importing scikit-learn (``lean.py``), with a fallback that loads the real
estimator when first needed; :func:`linear_predictor` takes them from a loaded estimator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["FITTED_ATTRIBUTES", "LINEAR_MODELS", "Predict", "fitted_predictor", "linear_predictor"]

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
LINEAR_MODELS = _CLASSIFIERS | _REGRESSORS
"""``module.QualName`` of the estimator classes the shortcut serves."""

FITTED_ATTRIBUTES = ("coef_", "intercept_", "n_features_in_", "classes_")
"""The attributes the shortcut predicts from (``classes_``: classifiers only)."""


def linear_predictor(model: Any) -> Predict | None:
    """A fast ``predict`` equal to ``model.predict``, or None when ``model`` is not one we know."""
    cls = type(model)
    qualified = f"{cls.__module__}.{cls.__qualname__}"
    if qualified not in LINEAR_MODELS:
        return None
    fitted = {name: getattr(model, name, None) for name in FITTED_ATTRIBUTES}
    return fitted_predictor(qualified, fitted, model.predict)


def fitted_predictor(qualified: str, fitted: Mapping[str, Any], fallback: Predict) -> Predict | None:
    """A fast ``predict`` for a ``qualified`` (``module.QualName``) linear model with the fitted
    attributes ``fitted`` (name -> value, see FITTED_ATTRIBUTES), answering exactly what its
    ``predict`` answers; rows it does not handle go to ``fallback``. None when the class is not one
    of LINEAR_MODELS or the attributes are not what its ``predict`` expects."""
    coef = fitted.get("coef_")
    intercept = fitted.get("intercept_")
    width = fitted.get("n_features_in_")
    if (
        not isinstance(coef, np.ndarray)
        or coef.dtype.kind != "f"
        or coef.ndim not in (1, 2)
        or not isinstance(width, int | np.integer)
        or isinstance(width, bool)
        or coef.shape[-1] != width
        or not _is_intercept(intercept)
    ):
        return None
    if qualified in _CLASSIFIERS:
        return _classifier(fallback, coef, intercept, int(width), fitted.get("classes_"))
    if qualified in _REGRESSORS:
        return _regressor(fallback, coef, intercept, int(width))
    return None


def _is_intercept(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return value.dtype.kind == "f" and value.ndim <= 1
    return isinstance(value, float | int | np.floating | np.integer) and not isinstance(value, bool)


def _fits(rows: NDArray[Any], width: int) -> bool:
    return (
        isinstance(rows, np.ndarray)
        and rows.ndim == 2
        and rows.shape[1] == width
        and rows.dtype.kind in "fiu"
        and bool(np.isfinite(rows).all())
    )


def _classifier(fallback: Predict, coef: NDArray[Any], intercept: Any, width: int, classes: Any) -> Predict | None:
    """``LinearClassifierMixin.predict``: the decision function's sign (binary) or argmax, as a class."""
    if coef.ndim != 2 or not isinstance(classes, np.ndarray) or classes.ndim != 1 or len(classes) < 2:
        return None
    if coef.shape[0] != (1 if len(classes) == 2 else len(classes)):
        return None
    coef_t = coef.T

    def predict(rows: NDArray[Any]) -> Any:
        if not _fits(rows, width):
            return fallback(rows)
        scores = rows @ coef_t + intercept
        if scores.shape[1] == 1:
            return classes[(scores[:, 0] > 0).astype(np.intp)]
        return classes[scores.argmax(axis=1)]

    return predict


def _regressor(fallback: Predict, coef: NDArray[Any], intercept: Any, width: int) -> Predict:
    """``LinearModel.predict``: ``X @ coef_ + intercept_`` (``coef_.T`` for several targets)."""
    coef_t = coef.T if coef.ndim == 2 else coef

    def predict(rows: NDArray[Any]) -> Any:
        if not _fits(rows, width):
            return fallback(rows)
        return rows @ coef_t + intercept

    return predict
