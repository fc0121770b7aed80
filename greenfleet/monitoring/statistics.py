"""statistics.json in SageMaker's format (Deequ's profile): per feature its inferred type, present and
missing counts and, for numbers, mean/sum/std_dev/min/max with a KLL sketch (Apache DataSketches, k=2048
as Deequ) materialised in 10 equal-width buckets; for strings the distinct count and each value's count."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from datasketches import kll_doubles_sketch

from greenfleet.monitoring.dataset import Table
from greenfleet.monitoring.profile import FRACTIONAL, INTEGRAL, STRING, Profile, profile

SKETCH_K = 2048
SKETCH_SHRINK = 0.6667
"""DataSketches' KLL shrinks each lower level's capacity by 2/3 (Deequ's own KLL uses c = 0.64)."""
BUCKETS = 10
MAX_CATEGORIES = 1000
"""String values listed in a categorical distribution (the most frequent); distinct_count counts them all."""
Doc = dict[str, Any]


def sketch_levels(values: np.ndarray, k: int = SKETCH_K) -> list[list[float]]:
    """A KLL sketch of ``values`` as its compactor levels (level h holds items of weight 2**h)."""
    sketch = kll_doubles_sketch(k)
    if len(values):
        sketch.update(values)
    levels: dict[int, list[float]] = {}
    for item, weight in sketch:
        levels.setdefault(int(weight).bit_length() - 1, []).append(float(item))
    return [sorted(levels.get(h, [])) for h in range(max(levels) + 1)] if levels else []


def _number(value: float, integral: bool) -> float | int:
    return int(value) if integral and float(value).is_integer() else float(value)


def numerical_statistics(p: Profile) -> Doc:
    values = p.numbers
    integral = p.inferred_type == INTEGRAL
    common = {"num_present": p.present, "num_missing": p.missing}
    if not len(values):
        return {"common": common}
    low, high = float(values.min()), float(values.max())
    counts, edges = np.histogram(values, bins=BUCKETS, range=(low, high) if high > low else (low, low + 1))
    buckets = [{"lower_bound": float(edges[i]), "upper_bound": float(edges[i + 1]), "count": int(counts[i])}
               for i in range(BUCKETS)]
    return {"common": common, "mean": float(values.mean()), "sum": _number(float(values.sum()), integral),
            "std_dev": float(values.std()), "min": _number(low, integral), "max": _number(high, integral),
            "distribution": {"kll": {"buckets": buckets, "sketch": {
                "parameters": {"c": SKETCH_SHRINK, "k": SKETCH_K}, "data": sketch_levels(values)}}}}


def categories(p: Profile, values: list[Any]) -> Counter[str]:
    return Counter(_text(v) for v in values if v is not None and v != "")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else repr(value)


def string_statistics(p: Profile, values: list[Any]) -> Doc:
    counted = categories(p, values)
    return {"common": {"num_present": p.present, "num_missing": p.missing}, "distinct_count": len(counted),
            "distribution": {"categorical": {"buckets": [
                {"value": value, "count": count} for value, count in counted.most_common(MAX_CATEGORIES)]}}}


def feature_statistics(p: Profile, values: list[Any]) -> Doc:
    kind = p.inferred_type
    if kind in (INTEGRAL, FRACTIONAL):
        return {"name": p.name, "inferred_type": kind, "numerical_statistics": numerical_statistics(p)}
    if kind == STRING:
        return {"name": p.name, "inferred_type": kind, "string_statistics": string_statistics(p, values)}
    return {"name": p.name, "inferred_type": kind,
            "string_statistics": {"common": {"num_present": 0, "num_missing": p.missing}, "distinct_count": 0}}


def dataset_statistics(table: Table) -> Doc:
    features = [feature_statistics(profile(name, column), column)
                for name, column in zip(table.names, table.columns, strict=True)]
    return {"version": 0, "dataset": {"item_count": table.rows}, "features": features}
