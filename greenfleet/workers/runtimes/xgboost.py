"""The XGBoost runtime, compatible with the SageMaker built-in XGBoost algorithm's serving.

The model is ``xgboost-model`` (the built-in algorithm's artifact: a Booster in binary, JSON or UBJSON
format, or a pickled Booster/XGBModel) or the one ``*.json``/``*.ubj``/``*.model``/``*.bst`` file.
Requests are header-less CSV rows (also JSON, JSON lines, NPY); the Booster's raw prediction is
returned as the built-in algorithm does: one per CSV line, or ``{"predictions": [{"score": ...}]}``.

Threads: the Booster predicts on ``OMP_NUM_THREADS`` threads (the container's Environment), 1 when unset.
XGBoost's own default is every core, which on a host whose cores several instances share turns a 0.2 ms
prediction into 9-15 ms: each call's OpenMP region waits for threads the other processes keep off the
cores (bench/judge_aa.py, issue 21: 40 trees, 4 rows, a 2-core machine at load 5-10). An instance is one
process among many here, not a machine of its own.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

from greenfleet.workers.errors import ModelInputError, StartupError
from greenfleet.workers.media import ARRAY_TYPES, CSV, JSON, decode_rows, dumps_json, encode_predictions, media_type
from greenfleet.workers.media import negotiate as negotiate_accept
from greenfleet.workers.rows import RowStream, row_stream
from greenfleet.workers.runtimes.modelfile import find_model_file, load_pickled

__all__ = ["XGBoostRuntime", "prediction_threads"]

_NAMES = ("xgboost-model",)
_PATTERNS = ("*.json", "*.ubj", "*.model", "*.bst", "*.joblib", "*.pkl")


class XGBoostRuntime:
    def __init__(self, xgboost: ModuleType) -> None:
        self._xgboost = xgboost
        self._booster: Any = None

    def load(self, model_dir: Path) -> None:
        path = find_model_file(model_dir, names=_NAMES, patterns=_PATTERNS, kind="XGBoost")
        self._booster = self._read_booster(path)
        self._booster.set_param({"nthread": prediction_threads(os.environ.get("OMP_NUM_THREADS"))})

    def _read_booster(self, path: Path) -> Any:
        if path.suffix not in (".pkl", ".joblib"):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "Unknown file format ... Using JSON as a guess"
                    return self._xgboost.Booster(model_file=str(path))
            except Exception as exc:
                native_error: Exception | None = exc
        else:
            native_error = None
        try:
            model = load_pickled(path)
        except StartupError as exc:
            reason = native_error if native_error is not None else exc
            raise StartupError(
                f"{path.name} is neither an XGBoost model file (binary, JSON or UBJSON) nor a pickled Booster: {reason}"
            ) from exc
        if isinstance(model, self._xgboost.Booster):
            return model
        if callable(getattr(model, "get_booster", None)):
            return model.get_booster()
        raise StartupError(f"{path.name} holds a {type(model).__name__}, not an XGBoost Booster or model")

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        media = media_type(content_type) or CSV
        rows = decode_rows(body, media)
        answer = negotiate_accept(accept, ARRAY_TYPES, CSV if media == CSV else JSON)
        try:
            predictions = self._booster.inplace_predict(rows)
        except ValueError as exc:  # XGBoostError is a ValueError: wrong feature count, bad values
            raise ModelInputError(str(exc).strip().splitlines()[0]) from exc
        if answer == JSON:
            return dumps_json({"predictions": [{"score": score} for score in predictions.tolist()]}), JSON
        return encode_predictions(predictions, answer), answer

    def stream(self, content_type: str, accept: str) -> RowStream | None:
        media = media_type(content_type) or CSV
        answer = negotiate_accept(accept, ARRAY_TYPES, CSV if media == CSV else JSON)
        return row_stream(media, answer, self._booster.inplace_predict, json_item=_score)


def _score(value: Any) -> dict[str, Any]:
    return {"score": value}


def prediction_threads(value: str | None) -> int:
    """OMP_NUM_THREADS as the Booster's nthread: a positive integer, else 1."""
    try:
        threads = int(value) if value is not None else 1
    except ValueError:
        return 1
    return threads if threads > 0 else 1
