"""Import guards for optional dependencies, so a missing one becomes a precise FailureReason."""

from __future__ import annotations

import importlib
from types import ModuleType

from greenfleet.workers.errors import MissingDependency

__all__ = ["require_extra", "require_package"]


def require_extra(module: str, extra: str, image: str) -> ModuleType:
    """Import ``module``, which greenfleet's optional extra ``extra`` installs."""
    try:
        return _import(module)
    except ModuleNotFoundError as exc:
        raise MissingDependency(
            f"Image '{image}' needs the optional extra: pip install 'greenfleet[{extra}]' ({exc})"
        ) from exc


def require_package(module: str, image: str, *, distribution: str | None = None) -> ModuleType:
    """Import ``module``, a framework the image's user code runs on (``torch``, ``tensorflow``, ...)."""
    try:
        return _import(module)
    except ModuleNotFoundError as exc:
        raise MissingDependency(
            f"Image '{image}' needs the Python package '{distribution or module}' in the worker's "
            f"environment: pip install {distribution or module} ({exc})"
        ) from exc


def _import(module: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError:
        raise
    except ImportError as exc:  # installed but broken (a missing shared library, ...)
        raise MissingDependency(f"importing '{module}' failed: {exc}") from exc
