"""The model runtimes, one module each, built from the image's :class:`RuntimeChoice`."""

from __future__ import annotations

from greenfleet.workers.environment import WorkerEnvironment
from greenfleet.workers.extras import require_extra, require_package
from greenfleet.workers.images import RuntimeChoice, RuntimeName
from greenfleet.workers.runtime import Runtime
from greenfleet.workers.runtimes.mlflow import MlflowRuntime
from greenfleet.workers.runtimes.onnx import OnnxRuntime
from greenfleet.workers.runtimes.script import ScriptRuntime, search_dirs
from greenfleet.workers.runtimes.sklearn import SklearnRuntime
from greenfleet.workers.runtimes.xgboost import XGBoostRuntime

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
        return SklearnRuntime()
    if choice.runtime is RuntimeName.XGBOOST:
        return XGBoostRuntime(require_extra("xgboost", "xgboost", env.image))
    if choice.runtime is RuntimeName.ONNX:
        return OnnxRuntime(require_extra("onnxruntime", "onnx", env.image))
    if choice.runtime is RuntimeName.MLFLOW:
        return MlflowRuntime(require_extra("mlflow", "mlflow", env.image))
    if choice.runtime is RuntimeName.SCRIPT:
        if choice.framework:
            require_package(choice.framework, env.image)
        dirs = search_dirs(env.model_dir, env.submit_directory)
        return ScriptRuntime(env.program or "inference.py", dirs, env.default_accept)
    raise ValueError(f"the {choice.runtime} runtime is not built in-process")
