"""Lean loading: the sklearn runtime serves a pickled linear model from its fitted arrays, without
loading the estimator (nor importing scikit-learn, see test_worker_imports.py), byte for byte as the
estimator's ``predict`` answers; it loads the estimator only for the first input the NumPy shortcut
does not handle, and loads every other model at start-up as before."""

from __future__ import annotations

import asyncio
import io
import pickle
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pytest
import sklearn
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from greenfleet.workers.errors import Blocking, ModelInputError
from greenfleet.workers.media import ARRAY_TYPES, CSV, JSON, NPY, encode_predictions
from greenfleet.workers.runtimes import sklearn as sklearn_runtime
from greenfleet.workers.runtimes.lean import read_linear_model
from greenfleet.workers.runtimes.sklearn import SklearnRuntime
from greenfleet.workers.server import InvocationApp
from greenfleet.workers.watchdog import Heartbeat
from tests.workers.test_linear import CASES, PROBES, X, fitted
from tests.workers.test_server import exchange

LAYOUTS: dict[str, Callable[[Any, Path], None]] = {
    "pickle protocol 2": lambda model, path: path.write_bytes(pickle.dumps(model, protocol=2)),
    "pickle.dump": lambda model, path: path.write_bytes(pickle.dumps(model)),
    "pickle protocol 5": lambda model, path: path.write_bytes(pickle.dumps(model, protocol=5)),
    "joblib.dump": lambda model, path: joblib.dump(model, path),
    "numpy 1 spelling": lambda model, path: path.write_bytes(
        pickle.dumps(model, protocol=2).replace(b"numpy._core.", b"numpy.core.")  # as NumPy 1 pickled arrays
    ),
}
"""How a model file can be written and still be lean-loaded."""


class CustomLogistic(LogisticRegression):
    """A subclass may override ``predict``: never served by the shortcut."""


@pytest.fixture
def loads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """The model files the runtime loaded the real estimator from (with scikit-learn), in order."""
    loaded: list[Path] = []
    real = sklearn_runtime._load_estimator_file

    def counting(path: Path) -> Any:
        loaded.append(path)
        return real(path)

    monkeypatch.setattr(sklearn_runtime, "_load_estimator_file", counting)
    yield loaded


def model_dir(tmp_path: Path, model: Any, layout: str = "pickle.dump", name: str = "model.pkl") -> Path:
    directory = tmp_path / "model"
    directory.mkdir()
    LAYOUTS[layout](model, directory / name)
    return directory


def loaded_runtime(directory: Path) -> SklearnRuntime:
    runtime = SklearnRuntime()
    runtime.load(directory)
    return runtime


def npy(rows: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, rows, allow_pickle=False)
    return buffer.getvalue()


def outcome(function: Callable[..., Any], *args: Any) -> Any:
    """What ``function(*args)`` returns, or the type and message of what it raises."""
    try:
        return function(*args)
    except Exception as exc:
        return type(exc), str(exc)


def assert_serves_like_predict(runtime: SklearnRuntime, model: Any, rows: np.ndarray) -> None:
    """Every response format holds exactly what ``model.predict(rows)`` is encoded as (an object
    array, e.g. of str labels, cannot be written as .npy: the same error)."""
    expected = model.predict(rows)
    for media in ARRAY_TYPES:
        answer = outcome(runtime.invoke, npy(rows), NPY, media)
        assert answer == outcome(lambda: (encode_predictions(expected, media), media))  # noqa: B023 (called here)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("case", CASES)
def test_lean_loaded_models_answer_byte_for_byte_as_predict(
    case: str, layout: str, tmp_path: Path, loads: list[Path]
) -> None:
    model = fitted(case)
    directory = model_dir(tmp_path, model, layout, "model.joblib" if layout == "joblib.dump" else "model.pkl")
    runtime = loaded_runtime(directory)
    for probe in PROBES.values():
        assert_serves_like_predict(runtime, model, probe)
    one_row = ",".join(map(str, PROBES["rows"][0])).encode()
    assert runtime.invoke(one_row, CSV, JSON) == (encode_predictions(model.predict(PROBES["rows"][:1]), JSON), JSON)
    assert loads == []  # served from the fitted arrays alone


@pytest.mark.parametrize("layout", ["pickle.dump", "joblib.dump"])
def test_the_lean_read_state_is_what_the_estimator_unpickles_to(layout: str, tmp_path: Path) -> None:
    model = fitted("logistic object labels")
    path = model_dir(tmp_path, model, layout) / "model.pkl"
    pickled = read_linear_model(path)
    assert pickled is not None
    assert pickled.qualified == "sklearn.linear_model._logistic.LogisticRegression"
    loaded = vars(joblib.load(path))
    assert pickled.state.keys() == loaded.keys()
    for name, value in loaded.items():
        if isinstance(value, np.ndarray):
            assert (pickled.state[name].dtype, pickled.state[name].tolist()) == (value.dtype, value.tolist())
        else:
            assert pickled.state[name] == value


def _framed() -> Any:
    model = LogisticRegression().fit(pd.DataFrame(X, columns=list("abcdef")), (X[:, 0] > 0).astype(int))
    model.reference_frame = pd.DataFrame(X[:2], columns=list("abcdef"))  # a pickle that needs pandas
    return model


def _pickled_by_another_version(model: Any, path: Path) -> None:
    version = sklearn.__version__.encode()
    other = b"0" * len(version)  # same length: the pickle's frames stay valid
    data = pickle.dumps(model)
    assert data.count(version) == 1
    path.write_bytes(data.replace(version, other))


NOT_LEAN: dict[str, tuple[Callable[[], Any], Callable[[Any, Path], None]]] = {
    "pipeline": (
        lambda: make_pipeline(StandardScaler(), LogisticRegression()).fit(X, X[:, 0] > 0),
        LAYOUTS["pickle.dump"],
    ),
    "random forest": (
        lambda: RandomForestClassifier(n_estimators=3, random_state=0).fit(X, X[:, 0] > 0),
        LAYOUTS["pickle.dump"],
    ),
    "subclass": (lambda: CustomLogistic().fit(X, X[:, 0] > 0), LAYOUTS["joblib.dump"]),
    "pandas in the pickle": (_framed, LAYOUTS["joblib.dump"]),
    "other scikit-learn version": (lambda: fitted("logistic binary"), _pickled_by_another_version),
    "compressed joblib": (lambda: fitted("logistic binary"), lambda model, path: joblib.dump(model, path, compress=3)),
    "pickle protocol 0": (
        lambda: fitted("logistic binary"),
        lambda model, path: path.write_bytes(pickle.dumps(model, protocol=0)),
    ),
}


@pytest.mark.filterwarnings("ignore:Trying to unpickle estimator", "ignore:X does not have valid feature names")
@pytest.mark.parametrize("kind", NOT_LEAN)
def test_other_models_and_files_load_at_start_and_serve_as_before(kind: str, tmp_path: Path, loads: list[Path]) -> None:
    make, write = NOT_LEAN[kind]
    model = make()
    directory = tmp_path / "model"
    directory.mkdir()
    write(model, directory / "model.joblib")
    assert read_linear_model(directory / "model.joblib") is None
    runtime = loaded_runtime(directory)
    assert loads == [directory / "model.joblib"]
    assert_serves_like_predict(runtime, model, PROBES["rows"])


def _error(runtime: SklearnRuntime, body: bytes) -> str:
    with pytest.raises(ModelInputError) as raised:
        runtime.invoke(body, CSV, JSON)
    return raised.value.message


def test_input_the_shortcut_does_not_handle_loads_the_estimator_once_and_answers_as_before(
    tmp_path: Path, loads: list[Path]
) -> None:
    model = fitted("logistic strings")
    lean = loaded_runtime(model_dir(tmp_path, model))
    assert loads == []
    before = SklearnRuntime()  # what a worker answered before lean loading: the estimator's own predict
    before._predict = model.predict
    nan_row, narrow_row = b"0.5,,1,2,3,4", b"1,2,3"
    assert "NaN" in _error(lean, nan_row)
    assert loads == [tmp_path / "model" / "model.pkl"]
    assert _error(lean, nan_row) == _error(before, nan_row)
    assert _error(lean, narrow_row) == _error(before, narrow_row)
    booleans = npy(np.ones((2, 6), dtype=bool))  # not handled by the shortcut: scikit-learn answers
    assert lean.invoke(booleans, NPY, JSON) == before.invoke(booleans, NPY, JSON)
    assert_serves_like_predict(lean, model, PROBES["rows"])
    assert len(loads) == 1  # loaded once, then kept


def test_a_model_that_is_not_lean_fails_at_start_as_before(tmp_path: Path) -> None:
    directory = tmp_path / "model"
    directory.mkdir()
    (directory / "model.pkl").write_bytes(pickle.dumps({"coef_": np.ones(3)}))
    with pytest.raises(Exception, match="has no predict"):
        loaded_runtime(directory)


def test_concurrent_fallbacks_load_the_estimator_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = fitted("logistic binary")
    lean = loaded_runtime(model_dir(tmp_path, model))
    loaded: list[Path] = []

    def slow_load(path: Path) -> Any:
        loaded.append(path)
        time.sleep(0.2)
        return model

    monkeypatch.setattr(sklearn_runtime, "_load_estimator_file", slow_load)
    narrow = npy(np.ones((1, 3)))
    with ThreadPoolExecutor(4) as pool:
        errors = list(pool.map(lambda _: outcome(lean.invoke, narrow, NPY, JSON), range(4)))
    assert loaded == [tmp_path / "model" / "model.pkl"]
    assert {error[0] for error in errors} == {ModelInputError}


def test_the_lazy_load_never_runs_on_the_event_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the event loop a fallback asks for the model thread (Blocking) instead of loading scikit-learn
    there; the app reruns it on its model thread, where the estimator loads and answers."""
    model = fitted("logistic binary")
    lean = loaded_runtime(model_dir(tmp_path, model))
    loads: list[str] = []

    def load(path: Path) -> Any:
        loads.append(threading.current_thread().name)
        return model

    monkeypatch.setattr(sklearn_runtime, "_load_estimator_file", load)
    narrow = npy(np.ones((1, 3)))

    async def on_the_loop() -> None:
        with pytest.raises(Blocking):
            lean.invoke(narrow, NPY, JSON)

    asyncio.run(on_the_loop())
    assert loads == []
    app = InvocationApp(lean, Heartbeat(), inline_max_bytes=1 << 20,
                        executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="model"))
    answer = exchange(app, "POST", "/invocations", content=narrow, headers={"Content-Type": NPY})
    assert answer.status_code == 400 and "features" in answer.text, answer.text
    assert len(loads) == 1 and loads[0].startswith("model")
    well_formed = exchange(app, "POST", "/invocations", content=npy(X[:2]), headers={"Content-Type": NPY})
    assert well_formed.status_code == 200 and well_formed.content == encode_predictions(model.predict(X[:2]), JSON)
