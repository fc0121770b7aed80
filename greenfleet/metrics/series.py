"""What identifies a metric series: namespace, metric name and the exact set of dimensions (as in
CloudWatch, a query must name every dimension of the series it wants)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from greenfleet.errors import ValidationError

MAX_DIMENSIONS = 30

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class SeriesKey:
    namespace: str
    name: str
    dimensions: Dimensions  # sorted by name

    def digest(self, unit: str | None = None) -> str:
        """The stored series' identity: this key in ``unit`` (one series per unit of a metric)."""
        text = json.dumps([self.namespace, self.name, self.dimensions, unit or "None"], separators=(",", ":"))
        return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()

    def dimension_list(self) -> list[dict[str, str]]:
        return [{"Name": name, "Value": value} for name, value in self.dimensions]

    def dimension_map(self) -> dict[str, str]:
        return dict(self.dimensions)


def _check_text(value: Any, field: str, max_len: int) -> str:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{field} must be a non-empty string")
    if len(value) > max_len:
        raise ValidationError(f"{field} must be at most {max_len} characters (got {len(value)})")
    return value


def check_namespace(value: Any, field: str = "Namespace") -> str:
    text = _check_text(value, field, 255)
    if text.startswith(":"):
        raise ValidationError(f"{field} must not start with ':'")
    return text


def check_metric_name(value: Any, field: str = "MetricName") -> str:
    return _check_text(value, field, 255)


def parse_dimensions(value: Any, field: str = "Dimensions") -> Dimensions:
    """Dimensions as CloudWatch sends them ([{"Name", "Value"}, ...]) or as a {name: value} mapping."""
    if not value:
        return ()
    if isinstance(value, list) and len(value) <= MAX_DIMENSIONS:
        fast = _fast_dimensions(value)
        if fast is not None:
            return fast
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list):
        pairs = []
        for i, item in enumerate(value, 1):
            if not isinstance(item, Mapping) or set(item) - {"Name", "Value"}:
                raise ValidationError(f"{field}.member.{i} must be an object with Name and Value")
            pairs.append((item.get("Name"), item.get("Value")))
        items = pairs
    else:
        raise ValidationError(f"{field} must be a list of {{Name, Value}} objects")
    seen: dict[str, str] = {}
    for i, (name, val) in enumerate(items, 1):
        name = _check_text(name, f"{field}.member.{i}.Name", 255)
        val = _check_text(val, f"{field}.member.{i}.Value", 1024)
        if name in seen:
            raise ValidationError(f"{field}: the dimension name '{name}' appears more than once")
        seen[name] = val
    if len(seen) > MAX_DIMENSIONS:
        raise ValidationError(f"{field} may hold at most {MAX_DIMENSIONS} dimensions (got {len(seen)})")
    return tuple(sorted(seen.items()))


def _fast_dimensions(value: list[Any]) -> Dimensions | None:
    """The common, valid case without building error messages; None sends it to the full check."""
    pairs = []
    for item in value:
        if type(item) is not dict or len(item) != 2:
            return None
        name, val = item.get("Name"), item.get("Value")
        if type(name) is not str or type(val) is not str or not 0 < len(name) <= 255 or not 0 < len(val) <= 1024:
            return None
        pairs.append((name, val))
    pairs.sort()
    for i in range(1, len(pairs)):
        if pairs[i][0] == pairs[i - 1][0]:
            return None
    return tuple(pairs)


def series_key(namespace: str, name: str, dimensions: Mapping[str, str] | Dimensions) -> SeriesKey:
    """A key from already-valid parts (no validation; for the built-in figures)."""
    items = dimensions.items() if isinstance(dimensions, Mapping) else dimensions
    return SeriesKey(namespace, name, tuple(sorted(items)))
