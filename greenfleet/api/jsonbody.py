"""JSON request bodies as every face reads them, and AWS JSON answers as every face writes them.

Python's ``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity`` and recurses once per nesting level;
neither is JSON a client may send to greenfleet. :func:`parse` refuses both (and anything nested deeper
than :data:`MAX_DEPTH`) with a :class:`~greenfleet.errors.ValidationError`, so no face turns a hostile
body into a 500 or stores a number that is not a number. :func:`dumps` writes a non-finite float the way
the AWS JSON protocols do, as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``, never bare.
"""

from __future__ import annotations

import json
import math
from typing import Any

from greenfleet.errors import ValidationError

__all__ = ["MAX_DEPTH", "dumps", "parse"]

MAX_DEPTH = 64
"""Deepest nesting of objects and arrays accepted (SageMaker's deepest request shape is ~10 levels)."""


def _refuse_constant(name: str) -> float:
    raise ValidationError(f"Malformed JSON body: {name} is not a number JSON allows; send a finite number")


def _too_deep(text: str) -> bool:
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif char in "]}":
            depth -= 1
    return False


def parse(body: bytes | str) -> Any:
    """The JSON value of ``body``; ValidationError if it is not JSON, holds NaN/Infinity or nests too deep."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as exc:
        raise ValidationError(f"Malformed JSON body: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    if _too_deep(text):
        raise ValidationError(f"Malformed JSON body: nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"Malformed JSON body: {exc}") from None
    except RecursionError:
        raise ValidationError(f"Malformed JSON body: nested deeper than {MAX_DEPTH} levels") from None


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def dumps(document: Any) -> str:
    """``document`` as JSON; a non-finite float becomes the string AWS JSON uses for it."""
    try:
        return json.dumps(document, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(document), allow_nan=False)
