"""Finding and unpickling the one model file in a model directory."""

from __future__ import annotations

import importlib.abc
import pickle
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from greenfleet.workers.errors import StartupError

__all__ = ["find_model_file", "load_pickled", "unneeded_imports_kept_out"]

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


@contextmanager
def unneeded_imports_kept_out(path: Path) -> Iterator[frozenset[str]]:
    """Keep out of this process the optional libraries scikit-learn imports whenever they are installed
    and a served model does not use, when the uncompressed pickle ``path`` references none of them:

    - pandas (about 60 MB and 0.5 s per instance): for good, ``import pandas`` fails as if it were not
      installed (libraries treat pandas as optional);
    - rich (scikit-learn's progress bars while fitting; ~2 MB and ~50 ms): only while the body runs,
      i.e. while unpickling imports scikit-learn, so that later code can still ``import rich``.

    Nothing is kept out once scikit-learn is imported, or for a file that is not a plain pickle; yields
    the names kept out while the body runs.
    """
    names = frozenset() if "sklearn" in sys.modules else _unreferenced(path, ("pandas", "rich"))
    names = frozenset(name for name in names if name not in sys.modules)
    if "pandas" in names:
        sys.meta_path.insert(0, _NotInstalled("pandas"))
    while_loading = _NotInstalled(*(names - {"pandas"}))
    sys.meta_path.insert(0, while_loading)
    try:
        yield names
    finally:
        sys.meta_path.remove(while_loading)


def _unreferenced(path: Path, names: Sequence[str]) -> frozenset[str]:
    """Those of ``names`` that the plain pickle ``path`` does not mention; none if it is not one."""
    try:
        if path.stat().st_size > SCAN_LIMIT_BYTES:
            return frozenset()
        data = path.read_bytes()
    except OSError:
        return frozenset()
    if not data or data[0] != PICKLE_MAGIC:
        return frozenset()
    return frozenset(name for name in names if name.encode() not in data)


class _NotInstalled(importlib.abc.MetaPathFinder):
    """Answers the import of the packages ``names`` (and their submodules) with ModuleNotFoundError."""

    def __init__(self, *names: str) -> None:
        self.names = frozenset(names)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> None:
        if fullname.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not needed by this model)", name=fullname)
        return None


def load_pickled(path: Path) -> Any:
    """Unpickle ``path`` with joblib, then with plain pickle; the error names the file."""
    import joblib  # here, not at the top: a worker serving a lean-loaded model.pkl never needs it (~4 MB)

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
