"""constraint_violations.json: the current dataset's statistics checked against a baseline's constraints
and statistics, with SageMaker's check types, plus the per-feature figures the metric store receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from greenfleet.monitoring.constraints import feature_config
from greenfleet.monitoring.dataset import Table
from greenfleet.monitoring.distance import linf_categorical, linf_numeric, robust
from greenfleet.monitoring.profile import FRACTIONAL, INTEGRAL, STRING, UNKNOWN, Profile, profile
from greenfleet.monitoring.statistics import categories, feature_statistics, sketch_levels

Doc = dict[str, Any]


@dataclass
class FeatureFigures:
    """What one feature measured in one execution (published as metrics)."""

    name: str
    completeness: float
    type_violations: float
    """Fraction of present values that do not fit the baseline's type."""
    drift: float | None
    """The distance used by baseline_drift_check (None when not compared)."""
    numbers: tuple[int, float, float, float] | None = None
    """(count, sum, min, max) of a numeric feature."""


@dataclass
class Evaluation:
    statistics: Doc
    violations: list[Doc] = field(default_factory=list)
    figures: list[FeatureFigures] = field(default_factory=list)
    missing_columns: int = 0
    extra_columns: int = 0
    emit_metrics: bool = True
    """monitoring_config.emit_metrics of the baseline's constraints."""

    @property
    def report(self) -> Doc:
        return {"violations": self.violations}


def _profile(table: Table, name: str, values: list[Any]) -> Profile:
    numbers = table.numeric.get(name)
    if numbers is None:
        return profile(name, values)
    integral = len(numbers) if name in table.integral else 0
    return Profile(name, len(numbers), 0, integral, len(numbers) - integral, (), numbers)


def _violation(feature: str, check: str, description: str) -> Doc:
    return {"feature_name": feature, "constraint_check_type": check, "description": description}


def evaluate(table: Table, baseline_constraints: Doc, baseline_statistics: Doc | None) -> Evaluation:
    columns = dict(zip(table.names, table.columns, strict=True))
    profiles = {name: _profile(table, name, values) for name, values in columns.items()}
    features = [feature_statistics(profiles[n], columns[n]) for n in table.names]
    statistics: Doc = {"version": 0, "dataset": {"item_count": table.rows}, "features": features}
    result = Evaluation(statistics)
    current_features = {f["name"]: f for f in features}
    result.emit_metrics = (baseline_constraints.get("monitoring_config") or {}).get("emit_metrics",
                                                                                   "Enabled") == "Enabled"
    expected = [f["name"] for f in baseline_constraints.get("features", [])]
    baseline_features = {f["name"]: f for f in (baseline_statistics or {}).get("features", [])}
    missing = [n for n in expected if n not in profiles or profiles[n].count == 0]
    extra = [n for n in table.names if n not in set(expected)]
    result.missing_columns, result.extra_columns = len(missing), len(extra)
    evaluate_all = (baseline_constraints.get("monitoring_config") or {}).get("evaluate_constraints",
                                                                            "Enabled") == "Enabled"
    if evaluate_all and missing:
        result.violations.append(_violation(
            ", ".join(missing), "missing_column_check",
            f"There are missing columns in current dataset. Number of columns in current dataset: "
            f"{len(table.names) - len(extra)}, Number of columns in baseline constraints: {len(expected)}"))
    if evaluate_all and extra:
        result.violations.append(_violation(
            ", ".join(extra), "extra_column_check",
            f"There are extra columns in current dataset. Number of columns in current dataset: "
            f"{len(table.names)}, Number of columns in baseline constraints: {len(expected)}"))
    for constraint in baseline_constraints.get("features", []):
        current = profiles.get(constraint["name"])
        if current is None or current.count == 0:
            continue
        figures, found = _check_feature(constraint, baseline_constraints, baseline_features.get(constraint["name"]),
                                        current, columns[constraint["name"]], current_features[constraint["name"]])
        result.figures.append(figures)
        if evaluate_all:
            result.violations.extend(found)
    return result


def _check_feature(constraint: Doc, constraints: Doc, baseline: Doc | None, current: Profile,
                   values: list[Any], statistics: Doc) -> tuple[FeatureFigures, list[Doc]]:
    config = feature_config(constraints, constraint)
    name, expected_type = constraint["name"], constraint.get("inferred_type", UNKNOWN)
    found: list[Doc] = []
    completeness = current.present / current.count
    bad_types = 1 - current.conforming(expected_type) / current.present if current.present else 0.0
    if bad_types > float(config["datatype_check_threshold"]):
        found.append(_violation(name, "data_type_check",
                                f"Data type match requirement is not met. Expected data type: {expected_type}, "
                                f"Expected match: {100 * (1 - config['datatype_check_threshold']):g}%. "
                                f"Observed: Only {100 * (1 - bad_types):.4g}% of data is {expected_type}."))
    wanted = constraint.get("completeness")
    if wanted is not None and completeness < float(wanted):
        found.append(_violation(name, "completeness_check",
                                f"Data completeness requirement is not met. Expected completeness: "
                                f"{100 * float(wanted):g}%, Observed completeness: {100 * completeness:.4g}%."))
    domains = (constraint.get("string_constraints") or {}).get("domains")
    if domains is not None and current.present:
        counted = categories(current, values)
        unknown = sum(c for v, c in counted.items() if v not in set(domains)) / current.present
        if unknown > float(config["domain_content_threshold"]):
            found.append(_violation(name, "categorical_values_check",
                                    f"Data content requirement is not met. Expected: at most "
                                    f"{100 * config['domain_content_threshold']:g}% of values outside the "
                                    f"baseline's domain; observed {100 * unknown:.4g}%."))
    drift = _drift(expected_type, baseline, current, values, config, statistics)
    distribution = config["distribution_constraints"]
    threshold = float(distribution["categorical_comparison_threshold" if expected_type == STRING
                                   else "comparison_threshold"])
    if drift is not None and distribution.get("perform_comparison", "Enabled") == "Enabled" and drift > threshold:
        found.append(_violation(name, "baseline_drift_check",
                                f"Baseline drift distance: {drift:.4g} exceeds threshold: {threshold:g}"))
    numbers = None
    if len(current.numbers):
        numbers = (len(current.numbers), float(current.numbers.sum()), float(current.numbers.min()),
                   float(current.numbers.max()))
    return FeatureFigures(name, completeness, bad_types, drift, numbers), found


def _sketch(statistics: Doc) -> Any:
    return (statistics.get("numerical_statistics") or {}).get("distribution", {}).get("kll", {}).get(
        "sketch", {}).get("data")


def _drift(expected_type: str, baseline: Doc | None, current: Profile, values: list[Any],
           config: Doc, statistics: Doc) -> float | None:
    if baseline is None or not current.present:
        return None
    if expected_type in (INTEGRAL, FRACTIONAL):
        section = baseline.get("numerical_statistics") or {}
        sketch = section.get("distribution", {}).get("kll", {}).get("sketch", {}).get("data")
        if not sketch or not len(current.numbers):
            return None
        simple = linf_numeric(sketch, _sketch(statistics) or sketch_levels(current.numbers))
        method = config["distribution_constraints"].get("comparison_method", "Robust")
        if method in ("Robust", "linf_robust"):
            return robust(simple, int(section["common"]["num_present"]), len(current.numbers))
        return simple
    if expected_type == STRING:
        buckets = (baseline.get("string_statistics") or {}).get("distribution", {}).get("categorical", {}).get(
            "buckets", [])
        if not buckets:
            return None
        return linf_categorical({b["value"]: b["count"] for b in buckets}, categories(current, values))
    return None


def distance_between(expected_type: str, baseline: Doc, current: Doc, config: Doc) -> float | None:
    """The baseline_drift_check distance from two statistics.json features (categories: the listed ones)."""
    if expected_type in (INTEGRAL, FRACTIONAL):
        before, after = _sketch(baseline), _sketch(current)
        if not before or not after:
            return None
        simple = linf_numeric(before, after)
        if config["distribution_constraints"].get("comparison_method", "Robust") in ("Robust", "linf_robust"):
            return robust(simple, int(baseline["numerical_statistics"]["common"]["num_present"]),
                          int(current["numerical_statistics"]["common"]["num_present"]))
        return simple
    if expected_type == STRING:
        def counts(feature: Doc) -> dict[str, float]:
            section = (feature.get("string_statistics") or {}).get("distribution", {}).get("categorical", {})
            return {b["value"]: b["count"] for b in section.get("buckets", [])}

        before_counts, after_counts = counts(baseline), counts(current)
        return linf_categorical(before_counts, after_counts) if before_counts and after_counts else None
    return None
