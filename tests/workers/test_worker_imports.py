"""A scikit-learn worker imports only what it serves with: no pydantic, no HTTP or S3 client, no other
runtime (each costs start-up time and resident memory in every instance), and for a linear model it
serves lean (``runtimes/lean.py``) not even scikit-learn and SciPy until an input needs them."""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from tests.workers.conftest import WorkerFactory

NOT_IN_A_SKLEARN_WORKER = (
    "pydantic",
    "pydantic_core",
    "pydantic_settings",
    "greenfleet.settings",
    "httpx",
    "boto3",
    "botocore",
    "yaml",
    "mlflow",
    "onnxruntime",
    "xgboost",
    "greenfleet.workers.runtimes.mlflow",
    "greenfleet.workers.runtimes.onnx",
    "greenfleet.workers.runtimes.xgboost",
    "greenfleet.workers.runtimes.script",
)
"""pandas is not listed: importtime also logs a failed import, and scikit-learn's ``import pandas`` fails
in such a worker on purpose (``unneeded_imports_kept_out``; see test_pandas_free.py)."""

_IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+\d+ \|(\s*)(\S+)$", re.MULTILINE)


def imported_modules(log: str) -> set[str]:
    """The modules a process imported or tried to, from its ``-X importtime`` (PYTHONPROFILEIMPORTTIME)
    output: one line per module, the first time it is imported."""
    return {match.group(2) for match in _IMPORT_LINE.finditer(log)}


def unwanted(modules: set[str]) -> list[str]:
    """The modules of ``NOT_IN_A_SKLEARN_WORKER`` (or inside one of those packages) among ``modules``."""
    return sorted(
        module
        for module in modules
        if any(module == name or module.startswith(f"{name}.") for name in NOT_IN_A_SKLEARN_WORKER)
    )


def scikit_learn(modules: set[str]) -> list[str]:
    """scikit-learn and SciPy (and their submodules) among ``modules``."""
    return sorted(module for module in modules if module.partition(".")[0] in ("sklearn", "scipy"))


def test_the_importtime_parser_reads_nested_imports() -> None:
    log = (
        "import time: self [us] | cumulative | imported package\n"
        "import time:       120 |        120 |     pydantic_core._pydantic_core\n"
        "import time:      2335 |     403294 |   greenfleet.workers.runtimes.mlflow\n"
        "2024-01-01 greenfleet.workers WARNING something else\n"
    )
    modules = imported_modules(log)
    assert modules == {"pydantic_core._pydantic_core", "greenfleet.workers.runtimes.mlflow"}
    assert unwanted(modules) == ["greenfleet.workers.runtimes.mlflow", "pydantic_core._pydantic_core"]


def test_a_sklearn_worker_imports_only_what_it_serves_with(
    workers: WorkerFactory, tmp_path: Path, logistic_model: Path
) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.joblib").write_bytes(logistic_model.read_bytes())
    served = workers.start("greenfleet/sklearn", env={"SM_MODEL_DIR": str(model_dir), "PYTHONPROFILEIMPORTTIME": "1"})
    fetched = workers.start("greenfleet/sklearn", logistic_model, env={"PYTHONPROFILEIMPORTTIME": "1"})
    for worker in (served, fetched):
        assert worker.invoke("[" + ",".join(["0.5"] * 20) + "]").status_code == 200  # the request path too
        assert worker.invoke("0.5," * 19 + "0.5", content_type="text/csv", accept="text/csv").status_code == 200
        modules = imported_modules(worker.log())
        # the probe sees the worker's real imports (so an empty log cannot pass)
        assert {"numpy", "greenfleet.workers.runtimes.sklearn", "uvicorn"} <= modules
        assert unwanted(modules) == []
        assert scikit_learn(modules) == []  # a LogisticRegression written by joblib.dump is lean-loaded
    assert "greenfleet.artifacts.fetch" in imported_modules(fetched.log())


def test_a_lean_loaded_model_imports_scikit_learn_only_for_an_input_the_shortcut_does_not_handle(
    workers: WorkerFactory, tmp_path: Path, classification: tuple[np.ndarray, np.ndarray]
) -> None:
    x, y = classification
    model = LogisticRegression(max_iter=1000).fit(x, y)
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "model.pkl").write_bytes(pickle.dumps(model))
    worker = workers.start("greenfleet/sklearn", env={"SM_MODEL_DIR": str(model_dir), "PYTHONPROFILEIMPORTTIME": "1"})

    answer = worker.invoke(json.dumps({"inputs": x[:20].tolist()}))
    assert answer.json() == {"predictions": model.predict(x[:20]).tolist()}
    csv = "\n".join(",".join(map(repr, row)) for row in x[20:25].tolist())
    assert worker.invoke(csv, "text/csv", accept="text/csv").text.split() == [str(v) for v in model.predict(x[20:25])]
    modules = imported_modules(worker.log())
    assert {"numpy", "uvicorn", "greenfleet.workers.runtimes.lean"} <= modules
    assert scikit_learn(modules) == []

    missing = worker.invoke("0.5," * 19, "text/csv")  # an empty last cell: NaN
    with pytest.raises(ValueError) as raised:
        model.predict(np.array([[0.5] * 19 + [np.nan]]))
    assert (missing.status_code, missing.text) == (400, str(raised.value))  # scikit-learn's own error
    modules = imported_modules(worker.log())
    assert {"sklearn.linear_model", "scipy"} <= modules
    assert unwanted(modules) == []
    assert worker.invoke(json.dumps(x[0].tolist())).json() == {"predictions": model.predict(x[:1]).tolist()}
