"""PutMetricData's request, validated: MetricDatum with Value, Values+Counts or StatisticValues, Unit,
Timestamp (up to two weeks back, two hours ahead) and StorageResolution 1 or 60."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from greenfleet.errors import ValidationError
from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.errors import combination
from greenfleet.metrics.names import UNITS
from greenfleet.metrics.series import SeriesKey, check_metric_name, check_namespace, parse_dimensions
from greenfleet.metrics.sketch import DEFAULT_ACCURACY
from greenfleet.metrics.timestamps import parse_time

MAX_DATUMS = 1000
MAX_VALUES = 150
PAST_LIMIT_S = 14 * 86400
FUTURE_LIMIT_S = 2 * 3600
_UNIT_SET = frozenset(UNITS)
_DATUM_FIELDS = {"MetricName", "Dimensions", "Timestamp", "Value", "StatisticValues", "Values", "Counts",
                 "Unit", "StorageResolution"}


@dataclass(frozen=True, slots=True)
class Datum:
    key: SeriesKey
    unit: str | None
    resolution: int
    ts: int
    aggregate: Aggregate


NON_FINITE = ("NaN", "Infinity", "-Infinity")
"""How the AWS protocols write the floats CloudWatch refuses as values."""


def _non_finite_text(value: Any) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value if isinstance(value, str) and value in NON_FINITE else None


def invalid_value(value: Any, field: str) -> ValidationError:
    """CloudWatch's words for a value it refuses (NaN, ±Infinity), naming the member that holds it."""
    return ValidationError(f"The value {_non_finite_text(value) or value} for parameter {field} is invalid.")


def first_non_finite(metric_data: Any) -> ValidationError | None:
    """The refusal of the first NaN or ±Infinity among the data's numbers (Value, Values, Counts,
    StatisticValues), as a float or as the wire protocols' text, with its member's index; None if none."""
    if not isinstance(metric_data, list):
        return None
    for i, item in enumerate(metric_data, 1):
        if not isinstance(item, Mapping):
            continue
        field = f"MetricData.member.{i}"
        numbers: list[tuple[str, Any]] = [(f"{field}.Value", item.get("Value"))]
        for member in ("Values", "Counts"):
            listed = item.get(member)
            if isinstance(listed, list):
                numbers += [(f"{field}.{member}.member.{j}", v) for j, v in enumerate(listed, 1)]
        statistic = item.get("StatisticValues")
        if isinstance(statistic, Mapping):
            numbers += [(f"{field}.StatisticValues.{k}", statistic.get(k))
                        for k in ("SampleCount", "Sum", "Minimum", "Maximum")]
        for where, value in numbers:
            if _non_finite_text(value) is not None:
                return invalid_value(value, where)
    return None


def _number(value: Any, field: str) -> float:
    if _non_finite_text(value) is not None:
        raise invalid_value(value, field)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(f"{field} must be a finite number")
    return float(value)


def _statistic_set(value: Any, field: str) -> Aggregate:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{field} must be an object with SampleCount, Sum, Minimum and Maximum")
    parts = {}
    for name in ("SampleCount", "Sum", "Minimum", "Maximum"):
        if name not in value:
            raise ValidationError(f"{field}.{name} is required")
        parts[name] = _number(value[name], f"{field}.{name}")
    if parts["SampleCount"] <= 0:
        raise ValidationError(f"{field}.SampleCount must be greater than 0")
    if parts["Minimum"] > parts["Maximum"]:
        raise ValidationError(f"{field}.Minimum must not exceed {field}.Maximum")
    return Aggregate(parts["SampleCount"], parts["Sum"], parts["Minimum"], parts["Maximum"], opaque=True)


def _values(values: Any, counts: Any, field: str, accuracy: float) -> Aggregate:
    if not isinstance(values, list) or not values:
        raise ValidationError(f"{field}.Values must be a non-empty list of numbers")
    if len(values) > MAX_VALUES:
        raise ValidationError(f"{field}.Values may hold at most {MAX_VALUES} values (got {len(values)})")
    array = np.asarray([_number(v, f"{field}.Values.member.{i}") for i, v in enumerate(values, 1)])
    weights = None
    if counts is not None:
        if not isinstance(counts, list) or len(counts) != len(values):
            raise ValidationError(f"The parameters {field}.Values and {field}.Counts must be of the same size.")
        weights = np.asarray([_number(c, f"{field}.Counts.member.{i}") for i, c in enumerate(counts, 1)])
        if (weights < 0).any():
            raise ValidationError(f"{field}.Counts must not be negative")
        if not (weights > 0).any():
            raise ValidationError(f"{field}.Counts must hold at least one count above 0")
    return Aggregate.of_values(array, weights, accuracy)


def _check_one_form(value: Any, values: Any, statistic: Any, field: str) -> None:
    """Exactly one of Value, Values and StatisticValues, refused with CloudWatch's codes and words."""
    given = [name for name, member in (("Value", value), ("Values", values), ("StatisticValues", statistic))
             if member is not None]
    if not given:
        raise combination(f"At least one of the parameters {field}.Value, {field}.Values or "
                          f"{field}.StatisticValues must be specified.")
    if len(given) > 1:
        message = (f"The parameters {field}.{given[0]} and {field}.{given[1]} are mutually exclusive and you "
                   "have specified both.")
        if given[:2] == ["Value", "Values"]:
            raise ValidationError(message)
        raise combination(message)


def parse_datum(item: Any, namespace: str, field: str, now: float, accuracy: float) -> Datum:
    if type(item) is not dict and not isinstance(item, Mapping):
        raise ValidationError(f"{field} must be an object")
    unknown = item.keys() - _DATUM_FIELDS
    if unknown:
        raise ValidationError(f"{field}: unknown member(s) {', '.join(sorted(unknown))}")
    name = item.get("MetricName")
    if type(name) is not str or not 0 < len(name) <= 255:
        name = check_metric_name(name, f"{field}.MetricName")
    dims = parse_dimensions(item.get("Dimensions"), f"{field}.Dimensions")
    value, values, statistic = item.get("Value"), item.get("Values"), item.get("StatisticValues")
    _check_one_form(value, values, statistic, field)
    if value is not None:
        if type(value) is not float or not math.isfinite(value):
            value = _number(value, f"{field}.Value")
        agg = Aggregate(1.0, value, value, value)
    elif values is not None:
        agg = _values(values, item.get("Counts"), field, accuracy)
    else:
        agg = _statistic_set(statistic, f"{field}.StatisticValues")
    if values is None and item.get("Counts") is not None:
        raise ValidationError(f"{field}.Counts is only allowed with {field}.Values")
    unit = item.get("Unit")
    if unit is not None and unit not in _UNIT_SET:
        raise ValidationError(f"{field}.Unit: '{unit}' is not one of {', '.join(UNITS)}")
    resolution = item.get("StorageResolution", 60)
    if resolution not in (1, 60) or isinstance(resolution, bool):
        raise ValidationError(f"{field}.StorageResolution must be 1 or 60 (got {resolution!r})")
    stamp = item.get("Timestamp")
    ts = now if stamp is None else stamp if type(stamp) is float else parse_time(stamp, f"{field}.Timestamp")
    if ts < now - PAST_LIMIT_S or ts > now + FUTURE_LIMIT_S:
        raise ValidationError(f"{field}.Timestamp must be within two weeks before and two hours after now")
    return Datum(SeriesKey(namespace, name, dims), unit, int(resolution), math.floor(ts), agg)


def parse_put(body: Any, now: float, accuracy: float = DEFAULT_ACCURACY) -> list[Datum]:
    """The datums of a PutMetricData request ({"Namespace", "MetricData": [...]})."""
    if not isinstance(body, Mapping):
        raise ValidationError("the request must be an object with Namespace and MetricData")
    namespace = check_namespace(body.get("Namespace"))
    if namespace.startswith("AWS/"):
        raise ValidationError("Namespace: the AWS/ namespaces are reserved for the figures greenfleet publishes")
    data = body.get("MetricData")
    if not isinstance(data, list) or not data:
        raise ValidationError("MetricData must be a non-empty list")
    if len(data) > MAX_DATUMS:
        raise ValidationError(f"MetricData may hold at most {MAX_DATUMS} items (got {len(data)})")
    return [parse_datum(item, namespace, f"MetricData.member.{i}", now, accuracy)
            for i, item in enumerate(data, 1)]
