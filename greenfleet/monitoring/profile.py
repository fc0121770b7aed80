"""One column's raw values sorted into what the statistics need: present and missing counts, the
numeric values, the string values, and how many values are integral, fractional or strings (Deequ's
data-type histogram, which decides the inferred type)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from greenfleet.monitoring.dataset import Value

INTEGRAL, FRACTIONAL, STRING, UNKNOWN = "Integral", "Fractional", "String", "Unknown"
_INTEGRAL_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_NUMERIC_CHARS = frozenset("0123456789+-")


@dataclass(frozen=True)
class Profile:
    name: str
    count: int
    missing: int
    integral: int
    fractional: int
    strings: tuple[str, ...]
    """Values that are not numbers, as text."""
    numbers: np.ndarray
    """Every numeric value (float64), integral and fractional."""

    @property
    def present(self) -> int:
        return self.count - self.missing

    @property
    def inferred_type(self) -> str:
        """Deequ's rule: no value → Unknown; any string → String; any fraction → Fractional; else Integral."""
        if self.present == 0:
            return UNKNOWN
        if self.strings:
            return STRING
        return FRACTIONAL if self.fractional else INTEGRAL

    def conforming(self, inferred_type: str) -> int:
        """Present values that fit ``inferred_type`` (everything fits String)."""
        if inferred_type in (STRING, UNKNOWN):
            return self.present
        if inferred_type == FRACTIONAL:
            return self.integral + self.fractional
        return self.integral


def profile(name: str, values: Sequence[Value]) -> Profile:
    fast = _numeric_text_column(name, values)
    if fast is not None:
        return fast
    texts: list[str] = []
    numbers: list[float] = []
    integral = fractional = missing = 0
    for value in values:
        if value is None or value == "":
            missing += 1
        elif isinstance(value, bool):
            texts.append("true" if value else "false")
        elif isinstance(value, int):
            integral += 1
            numbers.append(float(value))
        elif isinstance(value, float):
            if value != value:  # NaN counts as missing, as Spark reads it from JSON null
                missing += 1
            else:
                fractional += 1
                numbers.append(value)
        else:
            texts.append(value)
    strings: list[str] = []
    array = np.asarray(numbers, dtype=np.float64)
    if texts:
        strings, more_numbers, more_integral = _split_texts(texts)
        array = np.concatenate([array, more_numbers]) if numbers else more_numbers
        integral += more_integral
        fractional += len(more_numbers) - more_integral
    return Profile(name, len(values), missing, integral, fractional, tuple(strings), array)


def _numeric_text_column(name: str, values: Sequence[Value]) -> Profile | None:
    """The common case of captured CSV, in C: every value a number written as text, none missing."""
    if not values or not isinstance(values[0], str):
        return None
    try:
        numbers = np.asarray(values, dtype=np.float64)
    except (ValueError, TypeError):
        return None
    if not bool(np.all(np.isfinite(numbers))):
        return None
    texts = [v for v in values if isinstance(v, str)]
    if len(texts) != len(values):
        return None
    chars = set("".join(texts))
    if chars <= _NUMERIC_CHARS | {" "}:
        return Profile(name, len(values), 0, len(values), 0, (), numbers)
    if not chars <= _NUMERIC_CHARS | {" ", ".", "e", "E"}:
        return None  # hex, "nan", "inf", ...: the slow path decides
    integral = sum(1 for t in texts if "." not in t and "e" not in t and "E" not in t)
    return Profile(name, len(values), 0, integral, len(values) - integral, (), numbers)


def _split_texts(texts: list[str]) -> tuple[list[str], np.ndarray, int]:
    """Numbers written as text (CSV) versus real strings; the fast path converts the whole column at once."""
    try:
        converted = np.asarray(texts, dtype=np.float64)
    except ValueError:
        converted = None
    if converted is not None and bool(np.all(np.isfinite(converted))):
        if all(c in _NUMERIC_CHARS for c in set("".join(texts)) if not c.isspace()):
            return [], converted, len(texts)
        integral = sum(1 for t in texts if _INTEGRAL_TEXT.fullmatch(t))
        return [], converted, integral
    strings: list[str] = []
    numbers: list[float] = []
    integral = 0
    for text in texts:
        try:
            number = float(text)
        except ValueError:
            strings.append(text)
            continue
        if number != number or number in (float("inf"), float("-inf")):
            strings.append(text)
            continue
        numbers.append(number)
        if _INTEGRAL_TEXT.fullmatch(text):
            integral += 1
    return strings, np.asarray(numbers, dtype=np.float64), integral
