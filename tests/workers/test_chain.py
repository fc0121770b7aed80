"""The in-process chain of built-in runtimes (greenfleet/workers/chain.py): which containers qualify, and the
chain's contract with real scikit-learn runtimes (Content-Type verbatim, Accept to the last container only,
SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT for the others, the failing container named)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from greenfleet.workers.chain import ChainApp, Link, in_process
from greenfleet.workers.environment import WorkerEnvironment
from greenfleet.workers.runtimes.sklearn import SklearnRuntime
from greenfleet.workers.watchdog import Heartbeat


def _env(image: str, **extra: str) -> WorkerEnvironment:
    return WorkerEnvironment.from_environ({"SAGEMAKER_BIND_TO_PORT": "8080", "SM_MODEL_DIR": "/tmp/m",
                                           "GREENFLEET_IMAGE": image, **extra})


@pytest.mark.parametrize(("image", "extra", "chained"), [
    ("greenfleet/sklearn", {}, True),
    ("greenfleet/xgboost", {}, True),
    ("sagemaker-xgboost:1.7-1", {}, True),
    ("sagemaker-xgboost:1.7-1", {"SAGEMAKER_PROGRAM": "inference.py"}, False),  # the user's script
    ("sagemaker-scikit-learn:1.2-1", {}, False),  # its model data may hold code/inference.py
    ("greenfleet/script", {}, False),
    ("greenfleet/mlflow", {}, False),
    ("greenfleet/command", {}, False),
    ("no-such-image", {}, False),
])
def test_only_built_in_runtimes_without_user_code_are_chained(image: str, extra: dict[str, str],
                                                               chained: bool) -> None:
    assert in_process(_env(image, **extra)) is chained


def _linear(root: Path, name: str, slope: float) -> SklearnRuntime:
    (root / name).mkdir()
    ramp = np.array([[0.0], [1.0], [2.0]])
    joblib.dump(LinearRegression().fit(ramp, slope * ramp[:, 0]), root / name / "model.joblib")
    runtime = SklearnRuntime()
    runtime.load(root / name)
    return runtime


def test_the_chain_feeds_each_answer_to_the_next_and_names_a_failing_container(tmp_path: Path) -> None:
    links = [Link("first", _linear(tmp_path, "a", 2.0), 16384, "text/csv"),
             Link("second", _linear(tmp_path, "b", 3.0), 16384, "")]
    with ThreadPoolExecutor(1) as executor:
        app = ChainApp(links, Heartbeat(), executor)
        done = app.run(b"1.5", "text/csv", "text/csv")
        assert done.status == 200 and done.content_type == "text/csv" and float(done.body) == pytest.approx(9.0)
        assert [part.split("=")[0] for part in done.latencies.split(",")] == ["first", "second"]
        # no Accept: the last container answers in its runtime's default (JSON)
        default = app.run(b"1.5", "text/csv", "")
        assert default.content_type == "application/json" and default.body.startswith(b'{"predictions"')
        broken = app.run(b"not,a,number", "text/csv", "")
        assert broken.status == 400 and broken.failed == "first"
        # the first answered JSON (no SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT): the second cannot read it, named
        links[0] = Link("first", links[0].runtime, 16384, "")
        unreadable = ChainApp(links, Heartbeat(), executor).run(b"1.5", "text/csv", "")
        assert unreadable.status == 400 and unreadable.failed == "second"
