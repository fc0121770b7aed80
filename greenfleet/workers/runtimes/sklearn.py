"""The scikit-learn runtime: a pickled estimator (``model.joblib``/``model.pkl``) and its ``predict``.

Lean loading: a linear model the NumPy shortcut serves (``linear.LINEAR_MODELS``) is read from its
file without importing scikit-learn and SciPy (``lean.py``). Measured with the benchmark's
LogisticRegression (median of 5 starts), such a worker idles at ~43 MB RSS (model.pkl; ~47 MB for a
model.joblib, which needs joblib) instead of ~128 MB, and answers ``/ping`` ~0.26-0.31 s after it is
spawned instead of ~1.1-1.25 s; requests cost the same. Well-formed requests never need
scikit-learn. The first request the shortcut does not handle (NaN, wrong width, non-numeric...) loads
the real estimator as any other model loads (``load_estimator``; ~1 s, once, then ~128 MB like
before) and gets scikit-learn's own answer or error. That load never runs on the event loop (a small
request asks for the model thread, ``Blocking``), so ``/ping`` keeps answering meanwhile. Every other
model loads at start-up, as before.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from greenfleet.workers.errors import Blocking, ModelInputError, StartupError
from greenfleet.workers.media import ARRAY_TYPES, JSON, decode_rows, encode_predictions, media_type, negotiate
from greenfleet.workers.rows import RowStream, row_stream
from greenfleet.workers.runtimes.lean import read_linear_model
from greenfleet.workers.runtimes.linear import Predict, fitted_predictor, linear_predictor
from greenfleet.workers.runtimes.modelfile import find_model_file, load_pickled, unneeded_imports_kept_out

__all__ = ["MODEL_NAMES", "MODEL_PATTERNS", "SklearnRuntime", "load_estimator"]

MODEL_NAMES = ("model.joblib", "model.pkl", "model.pickle")
MODEL_PATTERNS = ("*.joblib", "*.pkl", "*.pickle")


def load_estimator(model_dir: Path) -> Any:
    """The pickled estimator in ``model_dir``; it must have ``predict``."""
    return _load_estimator_file(_model_file(model_dir))


def _model_file(model_dir: Path) -> Path:
    return find_model_file(model_dir, names=MODEL_NAMES, patterns=MODEL_PATTERNS, kind="scikit-learn")


def _load_estimator_file(path: Path) -> Any:
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
        path = _model_file(model_dir)
        pickled = read_linear_model(path)
        if pickled is not None:
            self._predict = fitted_predictor(pickled.qualified, pickled.state, _LazyEstimator(path).predict)
            if self._predict is not None:
                return
        model = _load_estimator_file(path)
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

    def stream(self, content_type: str, accept: str) -> RowStream | None:
        assert self._predict is not None, "stream() before load()"
        return row_stream(media_type(content_type or JSON), negotiate(accept, ARRAY_TYPES, JSON), self._predict)


class _LazyEstimator:
    """The estimator pickled in ``path``, loaded (importing scikit-learn) when ``predict`` is first
    called, then kept. Loading runs with the cyclic collector off, as start-up does (``__main__.py``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.model: Any = None
        self._lock = threading.Lock()

    def predict(self, rows: NDArray[Any]) -> Any:
        model = self.model
        if model is None:
            if _on_event_loop():
                raise Blocking("the estimator is not loaded yet")
            with self._lock:
                if self.model is None:
                    collecting = gc.isenabled()
                    gc.disable()
                    try:
                        self.model = _load_estimator_file(self.path)
                    finally:
                        if collecting:
                            gc.enable()
                model = self.model
        return model.predict(rows)


def _on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
