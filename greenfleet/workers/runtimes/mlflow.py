"""The MLflow runtime: an MLflow model directory (with ``MLmodel``) served as a pyfunc.

Requests follow MLflow's scoring protocol exactly, because MLflow's own scoring function parses them:
JSON with ``inputs``, ``instances``, ``dataframe_split`` or ``dataframe_records`` (and ``params``),
or CSV with a header row. The answer is MLflow's ``{"predictions": ...}`` JSON.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Any

from greenfleet.workers.errors import ModelInputError, StartupError, UnsupportedContentType
from greenfleet.workers.media import JSON, negotiate
from greenfleet.workers.runtimes.modelfile import describe_dir

__all__ = ["MlflowRuntime", "find_mlmodel_dir"]


def find_mlmodel_dir(model_dir: Path) -> Path:
    """``model_dir`` if it holds ``MLmodel``, else its one subdirectory that does."""
    if (model_dir / "MLmodel").is_file():
        return model_dir
    nested = sorted(path.parent for path in model_dir.glob("*/MLmodel"))
    if len(nested) == 1:
        return nested[0]
    raise StartupError(f"no MLflow model (an MLmodel file) in SM_MODEL_DIR; found {describe_dir(model_dir)}")


class MlflowRuntime:
    def __init__(self, mlflow: ModuleType) -> None:
        self._mlflow = mlflow
        self._scoring: ModuleType | None = None
        self._model: Any = None
        self._schema: Any = None

    def load(self, model_dir: Path) -> None:
        path = find_mlmodel_dir(model_dir)
        self._scoring = importlib.import_module("mlflow.pyfunc.scoring_server")
        try:
            self._model = self._mlflow.pyfunc.load_model(str(path))
        except Exception as exc:
            raise StartupError(f"mlflow.pyfunc.load_model failed: {type(exc).__name__}: {exc}") from exc
        self._schema = self._model.metadata.get_input_schema()

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        assert self._scoring is not None, "invoke() before load()"
        negotiate(accept, (JSON,), JSON)
        try:
            result = self._scoring.invocations(body, content_type or JSON, self._model, self._schema)
        except self._mlflow.exceptions.MlflowException as exc:
            if 400 <= exc.get_http_status_code() < 500:
                raise ModelInputError(exc.message) from exc
            raise
        if result.status == 415:
            raise UnsupportedContentType(result.response)
        if result.status != 200:
            raise ModelInputError(result.response)
        return result.response.encode(), JSON
