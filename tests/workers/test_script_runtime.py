"""Script-mode handler resolution, in-process: defaults, transform_fn, context arguments, output forms."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import joblib
import pytest

from greenfleet.workers.errors import ModelInputError, StartupError
from greenfleet.workers.runtimes.script import ScriptRuntime, search_dirs


def runtime_with(tmp_path: Path, source: str, logistic_model: Path | None = None) -> ScriptRuntime:
    code = tmp_path / "code"
    code.mkdir()
    name = f"entry_{abs(hash(source)) % 10**8}.py"  # one module name per script: they share sys.modules
    (code / name).write_text(textwrap.dedent(source))
    if logistic_model is not None:
        (tmp_path / "model.joblib").write_bytes(logistic_model.read_bytes())
    runtime = ScriptRuntime(name, search_dirs(tmp_path, None))
    runtime.load(tmp_path)
    return runtime


def test_defaults_load_model_joblib_and_encode_by_accept(
    tmp_path: Path, logistic_model: Path, classification: tuple
) -> None:
    runtime = runtime_with(tmp_path, "# nothing but defaults\n", logistic_model)
    rows = classification[0][:2]
    body, media = runtime.invoke(json.dumps(rows.tolist()).encode(), "application/json", "")
    assert media == "application/json"
    assert json.loads(body) == {"predictions": joblib.load(logistic_model).predict(rows).tolist()}
    body, media = runtime.invoke(json.dumps(rows.tolist()).encode(), "application/json", "text/csv")
    assert media == "text/csv" and len(body.split()) == 2


def test_default_predict_fn_turns_a_bad_shape_into_a_400(tmp_path: Path, logistic_model: Path) -> None:
    runtime = runtime_with(tmp_path, "", logistic_model)
    with pytest.raises(ModelInputError, match="features"):
        runtime.invoke(b"[1, 2]", "application/json", "")


def test_transform_fn_replaces_the_three(tmp_path: Path) -> None:
    runtime = runtime_with(
        tmp_path,
        """
        def model_fn(model_dir):
            return "m"

        def transform_fn(model, body, content_type, accept):
            return f"{model}:{body}:{content_type}:{accept}"
        """,
    )
    assert runtime.invoke(b"hi", "text/plain", "text/plain") == (b"m:hi:text/plain:text/plain", "text/plain")


def test_handlers_taking_a_context_get_one(tmp_path: Path) -> None:
    runtime = runtime_with(
        tmp_path,
        """
        def model_fn(model_dir, context):
            return context.system_properties["model_dir"]

        def input_fn(body, content_type, context):
            return body

        def predict_fn(data, model, context):
            return data

        def output_fn(prediction, accept, context):
            return bytes(prediction)
        """,
    )
    assert runtime.invoke(b"\x01\x02", "application/octet-stream", "application/octet-stream") == (
        b"\x01\x02",
        "application/octet-stream",
    )


def test_without_model_fn_or_model_file_the_error_says_both(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"defines no model_fn.*model\.joblib"):
        runtime_with(tmp_path, "x = 1\n")


def test_an_import_of_a_missing_framework_is_named(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match="imports 'greenfleet_no_such_framework', which is not installed"):
        runtime_with(tmp_path, "import greenfleet_no_such_framework\n")


def test_a_missing_entry_point_names_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(StartupError, match=r"entry point 'serve.py' \(SAGEMAKER_PROGRAM\) not found in .*code"):
        ScriptRuntime("serve", search_dirs(tmp_path, None)).load(tmp_path)


def test_an_opt_ml_model_submit_directory_maps_into_the_model_dir(tmp_path: Path) -> None:
    assert search_dirs(tmp_path, "/opt/ml/model/code") == [tmp_path / "code", tmp_path]
    assert search_dirs(tmp_path, "/srv/src") == [Path("/srv/src"), tmp_path / "code", tmp_path]
