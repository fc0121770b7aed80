"""The model runtimes, one module each, built from the image's :class:`RuntimeChoice`.

A worker serves one runtime, so only that runtime's module is imported (in :func:`build_runtime`):
a scikit-learn worker never loads the MLflow, ONNX or XGBoost code, nor their libraries.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from greenfleet.workers.extras import require_extra, require_package
from greenfleet.workers.images import RuntimeChoice, RuntimeName

if TYPE_CHECKING:
    from greenfleet.workers.environment import WorkerEnvironment
    from greenfleet.workers.runtime import Runtime

__all__ = ["INLINE_MAX_BYTES", "build_runtime"]

INLINE_MAX_BYTES: dict[RuntimeName, int] = {
    RuntimeName.SKLEARN: 16 * 1024,
    RuntimeName.XGBOOST: 16 * 1024,
    RuntimeName.ONNX: 16 * 1024,
}
"""Largest request body predicted inline on the event loop (see ``server.py``); others: 0, always a thread."""


def build_runtime(choice: RuntimeChoice, env: WorkerEnvironment) -> Runtime:
    """A not-yet-loaded runtime; a missing optional dependency raises ``MissingDependency``."""
    if choice.runtime is RuntimeName.SKLEARN:
        from greenfleet.workers.runtimes.sklearn import SklearnRuntime

        return SklearnRuntime()
    if choice.runtime is RuntimeName.XGBOOST:
        from greenfleet.workers.runtimes.xgboost import XGBoostRuntime

        return XGBoostRuntime(require_extra("xgboost", "xgboost", env.image))
    if choice.runtime is RuntimeName.ONNX:
        from greenfleet.workers.runtimes.onnx import OnnxRuntime

        return OnnxRuntime(require_extra("onnxruntime", "onnx", env.image))
    if choice.runtime is RuntimeName.MLFLOW:
        from greenfleet.workers.runtimes.mlflow import MlflowRuntime

        return MlflowRuntime(require_extra("mlflow", "mlflow", env.image))
    if choice.runtime is RuntimeName.SCRIPT:
        from greenfleet.workers.runtimes.script import ScriptRuntime, search_dirs

        if choice.framework:
            require_package(choice.framework, env.image)
        dirs = search_dirs(env.model_dir, env.submit_directory)
        return ScriptRuntime(env.program or "inference.py", dirs, env.default_accept)
    raise ValueError(f"the {choice.runtime} runtime is not built in-process")
