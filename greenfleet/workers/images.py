"""Which runtime serves which container Image: one table, first match wins.

An image is matched on its repository path, case-insensitively, with the registry host, tag and
digest ignored: ``123456789012.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3``
has the repository path ``sagemaker-scikit-learn``. A pattern with ``n`` components matches the last
``n`` components of that path (``greenfleet/onnx`` matches ``registry:5000/greenfleet/onnx:1``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from greenfleet.workers.errors import StartupError

__all__ = [
    "IMAGES",
    "ImageRule",
    "RuntimeChoice",
    "RuntimeName",
    "ScriptMode",
    "check_allowed",
    "choose_runtime",
    "image_allowed",
    "match_image",
    "repository_of",
]


class RuntimeName(enum.StrEnum):
    SKLEARN = "sklearn"
    XGBOOST = "xgboost"
    ONNX = "onnx"
    MLFLOW = "mlflow"
    SCRIPT = "script"
    COMMAND = "command"


class ScriptMode(enum.Enum):
    """When an image that has a built-in runtime runs the user's entry point instead."""

    NEVER = "never"
    PROGRAM = "program"  # SAGEMAKER_PROGRAM is set
    PROGRAM_OR_CODE = "program-or-code"  # ... or the model data holds code/inference.py


@dataclass(frozen=True)
class ImageRule:
    pattern: str
    runtime: RuntimeName
    script_mode: ScriptMode = ScriptMode.NEVER
    framework: str | None = None
    """Python package the user's script needs (checked before it is imported)."""


IMAGES: tuple[ImageRule, ...] = (
    ImageRule("greenfleet/sklearn", RuntimeName.SKLEARN),
    ImageRule("greenfleet/xgboost", RuntimeName.XGBOOST),
    ImageRule("greenfleet/onnx", RuntimeName.ONNX),
    ImageRule("greenfleet/mlflow", RuntimeName.MLFLOW),
    ImageRule("greenfleet/script", RuntimeName.SCRIPT),
    ImageRule("greenfleet/command", RuntimeName.COMMAND),
    ImageRule("sklearn", RuntimeName.SKLEARN),
    ImageRule("sagemaker-scikit-learn", RuntimeName.SKLEARN, ScriptMode.PROGRAM_OR_CODE),
    ImageRule("xgboost", RuntimeName.XGBOOST, ScriptMode.PROGRAM),
    ImageRule("sagemaker-xgboost", RuntimeName.XGBOOST, ScriptMode.PROGRAM),
    ImageRule("pytorch-inference*", RuntimeName.SCRIPT, framework="torch"),
    ImageRule("tensorflow-inference*", RuntimeName.SCRIPT, framework="tensorflow"),
    ImageRule("huggingface-*", RuntimeName.SCRIPT, framework="transformers"),
)


@dataclass(frozen=True)
class RuntimeChoice:
    runtime: RuntimeName
    framework: str | None = None


def repository_of(image: str) -> str:
    """The repository path of ``image``, lower-cased, without registry host, tag or digest."""
    name = image.strip().split("@", 1)[0]
    components = name.split("/")
    last = components[-1]
    if ":" in last:
        components[-1] = last.split(":", 1)[0]
    first = components[0]
    if len(components) > 1 and ("." in first or ":" in first or first == "localhost"):
        components = components[1:]
    return "/".join(components).lower()


def _matches(pattern: str, repository: str) -> bool:
    depth = pattern.count("/") + 1
    tail = "/".join(repository.split("/")[-depth:])
    return fnmatchcase(tail, pattern)


def match_image(image: str) -> ImageRule:
    """The first rule matching ``image``; an unknown image is a StartupError listing the known ones."""
    repository = repository_of(image)
    for rule in IMAGES:
        if _matches(rule.pattern, repository):
            return rule
    known = ", ".join(rule.pattern for rule in IMAGES)
    raise StartupError(f"Image '{image}' has no runtime; known images: {known}")


def choose_runtime(rule: ImageRule, *, program: str | None, model_dir: Path) -> RuntimeChoice:
    """The runtime for an image matching ``rule``; call it once the model data is in ``model_dir``."""
    script = (rule.script_mode is not ScriptMode.NEVER and bool(program)) or (
        rule.script_mode is ScriptMode.PROGRAM_OR_CODE and (model_dir / "code" / "inference.py").is_file()
    )
    return RuntimeChoice(RuntimeName.SCRIPT if script else rule.runtime, rule.framework)


_USER_CODE_IMAGES = {RuntimeName.SCRIPT: "greenfleet/script", RuntimeName.COMMAND: "greenfleet/command"}


def image_allowed(image: str, allowed: tuple[str, ...] | list[str]) -> bool:
    """True if ``image`` matches one of the ``allowed`` patterns (``*`` allows every image)."""
    repository = repository_of(image)
    return any(pattern == "*" or _matches(pattern.strip().lower(), repository) for pattern in allowed)


def check_allowed(image: str, rule: ImageRule, choice: RuntimeChoice | None, allowed: tuple[str, ...]) -> None:
    """StartupError unless the server's image allow-list lets ``image`` run, and (``choice`` known) lets it
    run user code: a built-in image switched to script mode needs ``greenfleet/script`` allowed too."""
    if not image_allowed(image, allowed):
        raise StartupError(f"Image '{image}' is not in this server's allow-list (GREENFLEET_ALLOWED_IMAGES: "
                           f"{', '.join(allowed)})")
    if choice is None or choice.runtime is rule.runtime:
        return
    needed = _USER_CODE_IMAGES.get(choice.runtime)
    if needed is not None and not image_allowed(needed, allowed):
        raise StartupError(f"Image '{image}' would run user code ({choice.runtime} runtime), but {needed} is not "
                           f"in this server's allow-list (GREENFLEET_ALLOWED_IMAGES: {', '.join(allowed)})")
