"""Script mode, as in SageMaker's framework containers: the user's ``inference.py`` serves the model.

The entry point (``SAGEMAKER_PROGRAM``, default ``inference.py``) is looked up in the search
directories (``SAGEMAKER_SUBMIT_DIRECTORY``, ``SM_MODEL_DIR/code``, ``SM_MODEL_DIR``) and imported
with its directory on ``sys.path``. Its handlers are optional, with SageMaker's defaults as fallback:

    model_fn(model_dir[, context])                        once, at load
    input_fn(request_body, request_content_type[, ctx])   body is str for JSON/CSV/text, else bytes
    predict_fn(input_data, model[, ctx])
    output_fn(prediction, accept[, ctx])                  bytes, str, or a (body, content_type) tuple
    transform_fn(model, body, content_type, accept[, ctx]) replaces the three above when defined
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from greenfleet.workers.errors import ModelInputError, RequestError, StartupError
from greenfleet.workers.media import JSON, dumps_json, media_type
from greenfleet.workers.runtimes.handlers import (
    default_input_fn,
    default_model_fn,
    default_output_fn,
    default_predict_fn,
)

__all__ = ["ScriptContext", "ScriptRuntime", "find_program", "search_dirs"]

_log = logging.getLogger("greenfleet.workers")

_SAGEMAKER_MODEL_DIR = Path("/opt/ml/model")
_TEXT_TYPES = frozenset({"application/json", "text/csv", "application/jsonlines"})

Handler = Callable[..., Any]
_ARGUMENTS = {"model_fn": 1, "input_fn": 2, "predict_fn": 2, "output_fn": 2, "transform_fn": 4}
"""Each handler's arguments before the optional context."""


@dataclass
class ScriptContext:
    """Passed to handlers that take one more argument, like the toolkit's ``context``."""

    model_dir: str
    system_properties: dict[str, Any] = field(default_factory=dict)


def search_dirs(model_dir: Path, submit_directory: str | None) -> list[Path]:
    """Where to look for the entry point; a ``/opt/ml/model/...`` submit directory maps into ``model_dir``."""
    dirs: list[Path] = []
    if submit_directory and "://" not in submit_directory:
        path = Path(submit_directory)
        if path == _SAGEMAKER_MODEL_DIR or _SAGEMAKER_MODEL_DIR in path.parents:
            path = model_dir / path.relative_to(_SAGEMAKER_MODEL_DIR)
        dirs.append(path)
    for path in (model_dir / "code", model_dir):
        if path not in dirs:
            dirs.append(path)
    return dirs


def find_program(program: str, search_dirs: Sequence[Path]) -> Path:
    """The entry point's path: the first search directory that has it."""
    name = program if program.endswith(".py") else f"{program}.py"
    for directory in search_dirs:
        if (directory / name).is_file():
            return directory / name
    places = ", ".join(str(directory) for directory in search_dirs)
    raise StartupError(f"script-mode entry point '{name}' (SAGEMAKER_PROGRAM) not found in {places}")


def _import_program(path: Path) -> ModuleType:
    directory = str(path.parent)
    if directory not in sys.path:
        sys.path.insert(0, directory)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise StartupError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        raise StartupError(
            f"{path.name} imports '{exc.name}', which is not installed in the worker's environment"
        ) from exc
    except Exception as exc:
        raise StartupError(f"importing {path.name} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _arity(handler: Handler) -> int:
    try:
        return len(inspect.signature(handler).parameters)
    except (TypeError, ValueError):
        return -1


class ScriptRuntime:
    def __init__(self, program: str, search_dirs: Sequence[Path], default_accept: str = JSON) -> None:
        self._program = program
        self._search_dirs = list(search_dirs)
        self._default_accept = default_accept
        self._name = program
        self._context = ScriptContext(model_dir="")
        self._handlers: dict[str, Handler] = {}
        self._with_context: dict[str, bool] = {}
        """Whether a handler takes the context after its usual arguments (read once at load: ``inspect.signature``
        costs ~10-25 µs a call, more than an identity script's whole handler)."""
        self._model: Any = None

    def load(self, model_dir: Path) -> None:
        path = find_program(self._program, self._search_dirs)
        self._name = path.name
        module = _import_program(path)
        self._context = ScriptContext(str(model_dir), {"model_dir": str(model_dir), "gpu_id": None})
        defaults: dict[str, Handler] = {
            "model_fn": default_model_fn,
            "input_fn": default_input_fn,
            "predict_fn": default_predict_fn,
            "output_fn": default_output_fn,
        }
        for name in ("model_fn", "input_fn", "predict_fn", "output_fn", "transform_fn"):
            handler = getattr(module, name, None)
            if callable(handler):
                self._handlers[name] = handler
            elif name in defaults:
                self._handlers[name] = defaults[name]
            if name in self._handlers:
                self._with_context[name] = _arity(self._handlers[name]) > _ARGUMENTS[name]
        try:
            self._model = self._call("model_fn", str(model_dir))
        except StartupError:
            raise
        except RequestError as exc:
            raise StartupError(exc.message) from exc

    def _call(self, name: str, *args: Any) -> Any:
        handler = self._handlers[name]
        if self._with_context[name]:
            args = (*args, self._context)
        try:
            return handler(*args)
        except (RequestError, StartupError):
            raise
        except Exception as exc:
            _log.exception("%s in %s failed", name, self._name)
            error = StartupError if name == "model_fn" else RequestError
            raise error(f"{name} in {self._name} raised {type(exc).__name__}: {exc}") from exc

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if not accept or accept == "*/*":
            accept = self._default_accept
        request: bytes | str = body
        if media_type(content_type) in _TEXT_TYPES or content_type.startswith("text/"):
            try:
                request = body.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ModelInputError(f"{content_type} body is not UTF-8: {exc}") from exc
        if "transform_fn" in self._handlers:
            result = self._call("transform_fn", self._model, request, content_type, accept)
        else:
            data = self._call("input_fn", request, content_type)
            prediction = self._call("predict_fn", data, self._model)
            result = self._call("output_fn", prediction, accept)
        return _as_response(result, accept)


_BINARY = (bytes, bytearray, memoryview)
"""A tuple, not ``bytes | bytearray | memoryview``: that union is built anew on every call."""


def _as_response(result: Any, accept: str) -> tuple[bytes, str]:
    content_type = media_type(accept) if "," not in accept else JSON
    if isinstance(result, tuple) and len(result) == 2:
        result, content_type = result
    if isinstance(result, _BINARY):
        return bytes(result), str(content_type)
    if isinstance(result, str):
        return result.encode("utf-8"), str(content_type)
    return dumps_json(result), JSON
