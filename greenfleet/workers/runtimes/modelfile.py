"""Finding and unpickling the one model file in a model directory."""

from __future__ import annotations

import importlib.abc
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib

from greenfleet.workers.errors import StartupError

__all__ = ["find_model_file", "load_pickled"]

_LISTED_ENTRIES = 12


def find_model_file(model_dir: Path, *, names: Sequence[str], patterns: Sequence[str], kind: str) -> Path:
    """The first of ``names`` present in ``model_dir``, else the single file matching ``patterns``."""
    for name in names:
        if (model_dir / name).is_file():
            return model_dir / name
    candidates = sorted({path for pattern in patterns for path in model_dir.glob(pattern) if path.is_file()})
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        found = ", ".join(path.name for path in candidates)
        raise StartupError(f"SM_MODEL_DIR has several {kind} model files ({found}); name the one to serve {names[0]}")
    expected = " / ".join([*names, *patterns])
    raise StartupError(f"no {kind} model in SM_MODEL_DIR: expected {expected}; found {describe_dir(model_dir)}")


def describe_dir(path: Path) -> str:
    """A short listing of ``path`` for an error message."""
    if not path.is_dir():
        return "no directory"
    entries = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in path.iterdir())
    if not entries:
        return "an empty directory"
    shown = ", ".join(entries[:_LISTED_ENTRIES])
    return shown + (f" and {len(entries) - _LISTED_ENTRIES} more" if len(entries) > _LISTED_ENTRIES else "")


PICKLE_MAGIC = 0x80  # protocol 2+; compressed joblib files start otherwise and are left alone
SCAN_LIMIT_BYTES = 64 * 1024 * 1024


def keep_pandas_out(path: Path) -> bool:
    """scikit-learn imports pandas whenever it is installed (about 60 MB and 0.5 s per instance). If the
    uncompressed pickle references no pandas module, make ``import pandas`` fail in this process, as if
    it were not installed, before scikit-learn is imported; returns True when it did."""
    if "pandas" in sys.modules or "sklearn" in sys.modules:
        return False
    try:
        if path.stat().st_size > SCAN_LIMIT_BYTES:
            return False
        data = path.read_bytes()
    except OSError:
        return False
    if not data or data[0] != PICKLE_MAGIC or b"pandas" in data:
        return False
    sys.meta_path.insert(0, _NoPandas())
    return True


class _NoPandas(importlib.abc.MetaPathFinder):
    """Answers ``import pandas`` with ModuleNotFoundError (libraries treat pandas as optional)."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname == "pandas" or fullname.startswith("pandas."):
            raise ModuleNotFoundError(f"No module named {fullname!r} (not needed by this model)", name=fullname)
        return None


def load_pickled(path: Path) -> Any:
    """Unpickle ``path`` with joblib, then with plain pickle; the error names the file."""
    try:
        return joblib.load(path)
    except Exception as joblib_error:
        try:
            with path.open("rb") as stream:
                return pickle.load(stream)
        except Exception:
            raise StartupError(
                f"cannot load {path.name}: {type(joblib_error).__name__}: {joblib_error}"
            ) from joblib_error
