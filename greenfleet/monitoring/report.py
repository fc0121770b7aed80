"""A monitoring schedule's latest report, per feature: baseline vs current (type, completeness, mean or
distinct values, the 10-bucket histogram of both on the baseline's bucket edges), the drift distance, and
the violations found — what ``greenfleet monitor report`` draws, and its JSON."""

from __future__ import annotations

from typing import Any

import numpy as np

from greenfleet.monitoring.constraints import feature_config
from greenfleet.monitoring.distance import weighted
from greenfleet.monitoring.violations import distance_between

Doc = dict[str, Any]


def _common(feature: Doc) -> Doc:
    section = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
    return dict(section.get("common") or {"num_present": 0, "num_missing": 0})


def _summary(feature: Doc | None) -> Doc | None:
    if feature is None:
        return None
    common = _common(feature)
    total = common["num_present"] + common["num_missing"]
    summary: Doc = {"InferredType": feature["inferred_type"],
                    "Completeness": common["num_present"] / total if total else 0.0}
    numbers = feature.get("numerical_statistics") or {}
    for key, name in (("mean", "Mean"), ("std_dev", "StdDev"), ("min", "Min"), ("max", "Max")):
        if key in numbers:
            summary[name] = numbers[key]
    strings = feature.get("string_statistics") or {}
    if "distinct_count" in strings:
        summary["DistinctCount"] = strings["distinct_count"]
    return summary


def _histogram(feature: Doc | None, edges: list[float]) -> list[float] | None:
    """The feature's share of values in each baseline bucket, from its KLL sketch."""
    sketch = ((feature or {}).get("numerical_statistics") or {}).get("distribution", {}).get("kll", {}).get(
        "sketch", {}).get("data")
    if not sketch or len(edges) < 2:
        return None
    items, cumulative = weighted(sketch)
    padded = np.concatenate([[0.0], cumulative])
    cdf = padded[np.searchsorted(items, np.asarray(edges), side="right")]
    cdf[0] = padded[np.searchsorted(items, edges[0], side="left")]
    return [round(float(v), 6) for v in np.diff(cdf)]


def feature_report(constraints: Doc, baseline_statistics: Doc, current_statistics: Doc,
                   violations: list[Doc]) -> list[Doc]:
    baseline = {f["name"]: f for f in baseline_statistics.get("features", [])}
    current = {f["name"]: f for f in current_statistics.get("features", [])}
    constrained = {f["name"]: f for f in constraints.get("features", [])}
    names = list(baseline) + [n for n in current if n not in baseline]
    rows = []
    for name in names:
        before, after = baseline.get(name), current.get(name)
        row: Doc = {"Name": name, "Baseline": _summary(before), "Current": _summary(after),
                    "Violations": sorted(v["constraint_check_type"] for v in violations
                                         if name in [n.strip() for n in v["feature_name"].split(",")])}
        if before is not None and after is not None:
            config = feature_config(constraints, constrained.get(name, {}))
            row["Distance"] = distance_between(before["inferred_type"], before, after, config)
            buckets = ((before.get("numerical_statistics") or {}).get("distribution", {}).get("kll", {})
                       .get("buckets", []))
            edges = [b["lower_bound"] for b in buckets] + ([buckets[-1]["upper_bound"]] if buckets else [])
            if edges:
                row["Histogram"] = {"Edges": edges, "Baseline": _histogram(before, edges),
                                    "Current": _histogram(after, edges)}
        rows.append(row)
    return rows
