"""Request validation against the service models shipped inside the installed botocore.

botocore checks only required members client-side; SageMaker's server checks ranges, lengths, enums
and patterns. This module walks an operation's input shape and reports every violation in
SageMaker's wording ("Value 'x' at 'a.b' failed to satisfy constraint: ...")."""

from __future__ import annotations

import functools
import math
import re
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from greenfleet.errors import ValidationError

MAX_REPORTED = 10
# Locations greenfleet widens on purpose: besides s3:// and https://, a local path, file:// and http://.
RELAXED_PATTERNS = {"Url", "DestinationS3Uri", "S3Uri", "S3ModelUri", "MonitoringS3Uri"}


@functools.cache
def service_model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def operation_model(service: str, operation: str) -> OperationModel:
    return service_model(service).operation_model(operation)


@functools.cache
def _pattern(regex: str) -> re.Pattern[str] | None:
    if "\\p{" in regex:  # Java Unicode classes: Python's re has none; skip rather than guess
        return None
    try:
        return re.compile(regex, re.DOTALL)
    except re.error:
        return None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


class _Walker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, value: Any, path: str, constraint: str) -> None:
        shown = value if not isinstance(value, dict | list) else "..."
        self.problems.append(f"Value '{shown}' at '{path}' failed to satisfy constraint: {constraint}")

    def walk(self, shape: Shape, value: Any, path: str) -> None:
        kind = shape.type_name
        checker = getattr(self, f"_{kind}", None)
        if checker is not None:
            checker(shape, value, path)

    def _structure(self, shape: Shape, value: Any, path: str) -> None:
        assert isinstance(shape, StructureShape)
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a structure")
            return
        for name in shape.required_members:
            if value.get(name) is None:
                self.problems.append(f"Value null at '{self._join(path, name)}' failed to satisfy constraint: "
                                     "Member must not be null")
        for name, member_value in value.items():
            if name not in shape.members:
                self.problems.append(f"Unknown member '{self._join(path, name)}'; expected one of: "
                                     f"{', '.join(shape.members)}")
                continue
            if member_value is not None:
                self.walk(shape.members[name], member_value, self._join(path, name))

    def _list(self, shape: Shape, value: Any, path: str) -> None:
        assert isinstance(shape, ListShape)
        if not isinstance(value, list):
            self.fail(value, path, "Member must be a list")
            return
        self._length(shape, value, len(value), path)
        for index, item in enumerate(value, start=1):
            self.walk(shape.member, item, f"{path}.{index}.member")

    def _map(self, shape: Shape, value: Any, path: str) -> None:
        assert isinstance(shape, MapShape)
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a map")
            return
        self._length(shape, value, len(value), path)
        for key, item in value.items():
            self.walk(shape.key, key, f"{path}.key")
            self.walk(shape.value, item, f"{path}.{key}")

    def _string(self, shape: Shape, value: Any, path: str) -> None:
        if not isinstance(value, str):
            self.fail(value, path, "Member must be a string")
            return
        self._length(shape, value, len(value), path)
        if shape.enum and value not in shape.enum:
            shown = ", ".join(shape.enum[:12]) + (", ..." if len(shape.enum) > 12 else "")
            self.fail(value, path, f"Member must satisfy enum value set: [{shown}]")
        regex = shape.metadata.get("pattern") if shape.name not in RELAXED_PATTERNS else None
        compiled = _pattern(regex) if regex else None
        if compiled is not None and not compiled.fullmatch(value):  # "" too: SageMaker's names need a character
            self.fail(value, path, f"Member must satisfy regular expression pattern: {regex}")

    def _number(self, shape: Shape, value: Any, path: str, integral: bool) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(value, path, "Member must be a number")
            return
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(value, path, "Member must be a finite number (NaN and Infinity are not numbers)")
            return
        if integral and isinstance(value, float) and not value.is_integer():
            self.fail(value, path, "Member must be an integer")
            return
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self.fail(value, path, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            self.fail(value, path, f"Member must have value less than or equal to {high}")

    def _integer(self, shape: Shape, value: Any, path: str) -> None:
        self._number(shape, value, path, integral=True)

    def _long(self, shape: Shape, value: Any, path: str) -> None:
        self._number(shape, value, path, integral=True)

    def _float(self, shape: Shape, value: Any, path: str) -> None:
        self._number(shape, value, path, integral=False)

    def _double(self, shape: Shape, value: Any, path: str) -> None:
        self._number(shape, value, path, integral=False)

    def _boolean(self, shape: Shape, value: Any, path: str) -> None:
        if not isinstance(value, bool):
            self.fail(value, path, "Member must be a boolean")

    def _timestamp(self, shape: Shape, value: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fail(value, path, "Member must be a timestamp")

    def _length(self, shape: Shape, value: Any, length: int, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and length < low:
            self.fail(value, path, f"Member must have length greater than or equal to {low}")
        if high is not None and length > high:
            self.fail(value, path, f"Member must have length less than or equal to {high}")

    @staticmethod
    def _join(path: str, name: str) -> str:
        return f"{path}.{_camel(name)}" if path else _camel(name)


def validate_input(service: str, operation: str, params: Any) -> None:
    """Raise ValidationError listing every way ``params`` breaks the operation's input shape."""
    shape = operation_model(service, operation).input_shape
    walker = _Walker()
    if shape is None:
        if params:
            raise ValidationError(f"{operation} takes no parameters")
        return
    walker.walk(shape, params, "")
    if walker.problems:
        count = len(walker.problems)
        shown = "; ".join(walker.problems[:MAX_REPORTED])
        plural = "error" if count == 1 else "errors"
        raise ValidationError(f"{count} validation {plural} detected: {shown}")
