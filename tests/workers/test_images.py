"""Image -> runtime: the table, matched on the repository path, case-insensitively, tags ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenfleet.workers.errors import StartupError
from greenfleet.workers.images import RuntimeChoice, RuntimeName, choose_runtime, match_image, repository_of
from tests.workers.conftest import ECR_SKLEARN


@pytest.mark.parametrize(
    ("image", "repository"),
    [
        ("greenfleet/sklearn", "greenfleet/sklearn"),
        ("sklearn:latest", "sklearn"),
        (ECR_SKLEARN, "sagemaker-scikit-learn"),
        ("localhost:5000/GreenFleet/ONNX:1.0", "greenfleet/onnx"),
        ("xgboost@sha256:abc", "xgboost"),
        ("docker.io/library/xgboost:1", "library/xgboost"),
    ],
)
def test_repository_of(image: str, repository: str) -> None:
    assert repository_of(image) == repository


def choice(image: str, tmp_path: Path, program: str | None = None) -> RuntimeChoice:
    return choose_runtime(match_image(image), program=program, model_dir=tmp_path)


@pytest.mark.parametrize(
    ("image", "runtime"),
    [
        ("greenfleet/sklearn", RuntimeName.SKLEARN),
        ("sklearn", RuntimeName.SKLEARN),
        (ECR_SKLEARN, RuntimeName.SKLEARN),
        ("greenfleet/xgboost:2", RuntimeName.XGBOOST),
        ("683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1", RuntimeName.XGBOOST),
        ("811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest", RuntimeName.XGBOOST),
        ("registry:5000/GreenFleet/ONNX", RuntimeName.ONNX),
        ("greenfleet/mlflow", RuntimeName.MLFLOW),
        ("greenfleet/script", RuntimeName.SCRIPT),
        ("greenfleet/command", RuntimeName.COMMAND),
    ],
)
def test_built_in_runtimes(image: str, runtime: RuntimeName, tmp_path: Path) -> None:
    assert choice(image, tmp_path).runtime is runtime


def test_the_sagemaker_sklearn_image_runs_the_users_entry_point(tmp_path: Path) -> None:
    assert choice(ECR_SKLEARN, tmp_path, program="inference.py").runtime is RuntimeName.SCRIPT
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text("")
    assert choice(ECR_SKLEARN, tmp_path).runtime is RuntimeName.SCRIPT


def test_the_greenfleet_sklearn_image_stays_built_in(tmp_path: Path) -> None:
    assert choice("greenfleet/sklearn", tmp_path, program="inference.py").runtime is RuntimeName.SKLEARN


def test_xgboost_goes_script_mode_only_with_a_program(tmp_path: Path) -> None:
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "inference.py").write_text("")
    assert choice("sagemaker-xgboost:1.7-1", tmp_path).runtime is RuntimeName.XGBOOST
    assert choice("sagemaker-xgboost:1.7-1", tmp_path, program="serve.py").runtime is RuntimeName.SCRIPT


@pytest.mark.parametrize(
    ("image", "framework"),
    [
        ("763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-inference:2.1.0-cpu-py310", "torch"),
        ("763104351884.dkr.ecr.us-east-1.amazonaws.com/tensorflow-inference:2.13-cpu", "tensorflow"),
        (
            "763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference:2.1-transformers4.37",
            "transformers",
        ),
    ],
)
def test_framework_images_run_scripts_and_name_their_framework(image: str, framework: str, tmp_path: Path) -> None:
    assert choice(image, tmp_path) == RuntimeChoice(RuntimeName.SCRIPT, framework)


def test_an_unknown_image_is_a_startup_error_listing_known_ones() -> None:
    with pytest.raises(StartupError, match=r"^Image 'acme/llm:1' has no runtime; known images: greenfleet/sklearn, "):
        match_image("acme/llm:1")
