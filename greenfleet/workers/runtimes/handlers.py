"""SageMaker's default inference handlers, used where a script-mode ``inference.py`` defines none.

Like the SageMaker scikit-learn container: ``model_fn`` loads ``model.joblib``/``model.pkl``,
``input_fn`` decodes CSV/JSON/NPY to a NumPy array, ``predict_fn`` calls ``model.predict`` and
``output_fn`` encodes by Accept (JSON ``{"predictions": ...}``, CSV, NPY, JSON lines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from greenfleet.workers.errors import ModelInputError, StartupError
from greenfleet.workers.media import ARRAY_TYPES, decode_rows, encode_predictions, media_type, negotiate
from greenfleet.workers.runtimes.sklearn import load_estimator

__all__ = ["default_input_fn", "default_model_fn", "default_output_fn", "default_predict_fn"]


def default_model_fn(model_dir: str) -> Any:
    try:
        return load_estimator(Path(model_dir))
    except StartupError as exc:
        raise StartupError(f"the script defines no model_fn, and the default one failed: {exc.message}") from exc


def default_input_fn(body: bytes | str, content_type: str) -> Any:
    raw = body.encode() if isinstance(body, str) else body
    return decode_rows(raw, content_type)


def default_predict_fn(data: Any, model: Any) -> Any:
    try:
        return model.predict(data)
    except ValueError as exc:
        raise ModelInputError(str(exc)) from exc


def default_output_fn(prediction: Any, accept: str) -> tuple[bytes, str]:
    media = negotiate(media_type(accept) if "," not in accept else accept, ARRAY_TYPES, "application/json")
    return encode_predictions(prediction, media), media
