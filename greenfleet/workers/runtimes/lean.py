"""Reading a pickled linear estimator's fitted arrays without importing scikit-learn ("lean loading").

Importing scikit-learn imports SciPy: together ~80 MB of a scikit-learn worker's ~128 MB idle RSS and
~0.8 s of its ~1.1-1.25 s start-up (``sklearn.py`` says what lean loading saves). A linear model the
NumPy shortcut serves (``linear.py``) needs neither for well-formed input, only its ``coef_``,
``intercept_``, ``n_features_in_`` and ``classes_``. So the runtime first reads the model file with
:func:`read_linear_model`, an unpickler that resolves only an allow-list of globals:

- the exact estimator classes of ``linear.LINEAR_MODELS`` (by their pickled module and qualified name)
  resolve to a stand-in that records the state given to ``__setstate__``, i.e. what scikit-learn's
  ``BaseEstimator.__setstate__`` puts in the estimator's ``__dict__``;
- NumPy's array, dtype and scalar reconstruction (``numpy._core`` and the older ``numpy.core``
  spelling), a few builtins, ``copyreg._reconstructor`` and ``_codecs.encode`` resolve normally, as does
  joblib's ``NumpyArrayWrapper`` in a file written by ``joblib.dump`` (uncompressed, the default), which
  is then read with joblib's own unpickler, as ``joblib.load`` reads it.

Any other global (another estimator, a Pipeline, pandas, a user's class or subclass) ends the lean
read and the model loads as before, as does a file that is not a protocol 2+ pickle (a compressed
joblib file, protocols 0/1) and a model pickled by another scikit-learn version than the installed
one (scikit-learn's own load warns about it, ``InconsistentVersionWarning``, and may adapt the state).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO, Any, ClassVar

from greenfleet.workers.runtimes.linear import LINEAR_MODELS
from greenfleet.workers.runtimes.modelfile import PICKLE_MAGIC

__all__ = ["PickledEstimator", "read_linear_model"]

_NUMPY = ("numpy._core", "numpy.core")
_JOBLIB_ARRAY = ("joblib.numpy_pickle", "NumpyArrayWrapper")
_RESOLVED = frozenset(
    {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        *((f"{core}.multiarray", "_reconstruct") for core in _NUMPY),
        *((f"{core}.multiarray", "scalar") for core in _NUMPY),
        *((f"{core}.numeric", "_frombuffer") for core in _NUMPY),
        *((copyreg, "_reconstructor") for copyreg in ("copyreg", "copy_reg")),
        ("_codecs", "encode"),
        *(
            (builtins, name)
            for builtins in ("builtins", "__builtin__")  # the second: protocol 2 pickles' spelling
            for name in ("object", "set", "frozenset", "bytearray", "complex")
        ),
    }
)
"""Globals a linear estimator's pickle uses besides its class, resolved normally."""


@dataclass(frozen=True)
class PickledEstimator:
    """A pickled estimator read without its class: ``module.QualName`` and its ``__setstate__`` state."""

    qualified: str
    state: dict[str, Any]


def read_linear_model(path: Path) -> PickledEstimator | None:
    """The estimator pickled in ``path`` if it is one of ``LINEAR_MODELS`` made of nothing but the
    allow-listed globals and pickled by the installed scikit-learn; None otherwise (load it normally)."""
    try:
        with path.open("rb") as stream:
            if stream.read(1) != bytes([PICKLE_MAGIC]):
                return None
            stream.seek(0)
            try:
                loaded = _PickleReader(stream).load()
            except _JoblibArrays:
                stream.seek(0)
                loaded = _joblib_reader()(str(path), stream).load()
    except Exception:  # not allow-listed, or not readable at all: the normal load decides (and reports)
        return None
    if not isinstance(loaded, _StandIn) or not isinstance(getattr(loaded, "state", None), dict):
        return None
    state: dict[str, Any] = dict(loaded.state)
    if not all(isinstance(key, str) for key in state):
        return None
    if state.pop("_sklearn_version", None) != _installed_sklearn():
        return None
    return PickledEstimator(loaded.qualified, state)


@cache
def _installed_sklearn() -> str | None:
    import importlib.metadata  # ~8 ms: imported only when a model reads lean

    try:
        return importlib.metadata.version("scikit-learn")
    except importlib.metadata.PackageNotFoundError:
        return None


class _NotLean(pickle.UnpicklingError):
    """The pickle references a global outside the allow-list."""


class _JoblibArrays(_NotLean):
    """The pickle stores arrays the way ``joblib.dump`` does: read it with joblib's unpickler."""


class _StandIn:
    """Instantiated (``__new__``, no ``__init__``) in place of an allow-listed estimator class."""

    qualified: ClassVar[str] = ""
    state: Any

    def __setstate__(self, state: Any) -> None:
        if hasattr(self, "state"):
            raise _NotLean("state set twice")
        self.state = state


@cache
def _stand_in(qualified: str) -> type[_StandIn]:
    return type(qualified.rpartition(".")[2], (_StandIn,), {"qualified": qualified})


def _resolve(find_class: Any, module: str, name: str) -> Any:
    """A stand-in for an allow-listed estimator, ``find_class``'s answer for the other allowed globals."""
    qualified = f"{module}.{name}"
    if qualified in LINEAR_MODELS:
        return _stand_in(qualified)
    if (module, name) in _RESOLVED:
        return find_class(module, name)
    raise _NotLean(f"{qualified} is not allow-listed")


class _PickleReader(pickle.Unpickler):
    """The C unpickler for a plain pickle (it reads arrays exactly as ``joblib.load`` does); a file
    written by ``joblib.dump`` is handed to :func:`_joblib_reader` at its first array."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == _JOBLIB_ARRAY:
            raise _JoblibArrays(f"{module}.{name}")
        return _resolve(super().find_class, module, name)


@cache
def _joblib_reader() -> Any:
    """joblib's unpickler (arrays inline after the opcodes, in native byte order, as ``joblib.load``
    reads them) resolving only the allow-listed globals and joblib's array wrapper. Object arrays in a
    joblib file are nested pickles read through this ``find_class`` too. joblib is imported only for
    such a file (it costs a worker ~4 MB and ~30 ms)."""
    from joblib.numpy_pickle import NumpyUnpickler

    class JoblibReader(NumpyUnpickler):  # type: ignore[misc]  # joblib is untyped
        def __init__(self, filename: str, stream: IO[bytes]) -> None:
            super().__init__(filename, stream, ensure_native_byte_order=True)

        def find_class(self, module: str, name: str) -> Any:
            if (module, name) == _JOBLIB_ARRAY:
                return super().find_class(module, name)
            return _resolve(super().find_class, module, name)

        def persistent_load(self, pid: Any) -> Any:
            raise _NotLean("persistent ids are not allow-listed")

    return JoblibReader
