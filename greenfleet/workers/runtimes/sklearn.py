"""The scikit-learn runtime: a pickled estimator (``model.joblib``/``model.pkl``) and its ``predict``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from greenfleet.workers.errors import ModelInputError, StartupError
from greenfleet.workers.media import ARRAY_TYPES, JSON, decode_rows, encode_predictions, negotiate
from greenfleet.workers.runtimes.linear import Predict, linear_predictor
from greenfleet.workers.runtimes.modelfile import find_model_file, load_pickled, unneeded_imports_kept_out

__all__ = ["MODEL_NAMES", "MODEL_PATTERNS", "SklearnRuntime", "load_estimator"]

MODEL_NAMES = ("model.joblib", "model.pkl", "model.pickle")
MODEL_PATTERNS = ("*.joblib", "*.pkl", "*.pickle")


def load_estimator(model_dir: Path) -> Any:
    """The pickled estimator in ``model_dir``; it must have ``predict``."""
    path = find_model_file(model_dir, names=MODEL_NAMES, patterns=MODEL_PATTERNS, kind="scikit-learn")
    with unneeded_imports_kept_out(path):
        model = load_pickled(path)
    if not callable(getattr(model, "predict", None)):
        raise StartupError(f"{path.name} holds a {type(model).__name__}, which has no predict()")
    return model


class SklearnRuntime:
    """JSON/CSV/NPY/JSON-lines rows in; predictions out as JSON (default), CSV, NPY or JSON lines."""

    def __init__(self) -> None:
        self._predict: Predict | None = None

    def load(self, model_dir: Path) -> None:
        model = load_estimator(model_dir)
        self._predict = linear_predictor(model) or model.predict

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        assert self._predict is not None, "invoke() before load()"
        rows = decode_rows(body, content_type or JSON)
        media = negotiate(accept, ARRAY_TYPES, JSON)
        try:
            predictions = self._predict(rows)
        except ValueError as exc:
            raise ModelInputError(str(exc)) from exc
        return encode_predictions(predictions, media), media
