"""constraints.json suggested from a baseline's statistics, in SageMaker's format, with the documented
defaults: every threshold 0.1, numeric comparison "Robust" (the docs do not state a default; Deequ's
robust L∞ is the one that does not fire on sampling noise), categorical drift by L∞."""

from __future__ import annotations

import copy
from typing import Any

from greenfleet.errors import ValidationError
from greenfleet.monitoring.profile import STRING

Doc = dict[str, Any]
MAX_DOMAIN = 100
"""A string feature gets a domain constraint when it has at most this many distinct values and they
are at most a tenth of its present values (a category, not free text or an identifier)."""

DEFAULT_MONITORING_CONFIG: Doc = {
    "evaluate_constraints": "Enabled", "emit_metrics": "Enabled",
    "datatype_check_threshold": 0.1, "domain_content_threshold": 0.1,
    "distribution_constraints": {"perform_comparison": "Enabled", "comparison_threshold": 0.1,
                                 "comparison_method": "Robust", "categorical_comparison_threshold": 0.1,
                                 "categorical_drift_method": "LInfinity"}}
COMPARISON_METHODS = {"Simple", "Robust", "linf_simple", "linf_robust"}


def _common(feature: Doc) -> Doc:
    section = feature.get("numerical_statistics") or feature.get("string_statistics") or {}
    return dict(section.get("common", {"num_present": 0, "num_missing": 0}))


def suggest_constraints(statistics: Doc) -> Doc:
    features = []
    for feature in statistics["features"]:
        common = _common(feature)
        total = common["num_present"] + common["num_missing"]
        entry: Doc = {"name": feature["name"], "inferred_type": feature["inferred_type"],
                      "completeness": round(common["num_present"] / total, 6) if total else 0.0}
        strings = feature.get("string_statistics")
        if feature["inferred_type"] == STRING and strings:
            buckets = strings.get("distribution", {}).get("categorical", {}).get("buckets", [])
            distinct = strings["distinct_count"]
            if distinct <= MAX_DOMAIN and distinct <= 0.1 * common["num_present"] and len(buckets) == distinct:
                entry["string_constraints"] = {"domains": sorted(b["value"] for b in buckets)}
        features.append(entry)
    return {"version": 0, "features": features, "monitoring_config": copy.deepcopy(DEFAULT_MONITORING_CONFIG)}


def feature_config(constraints: Doc, feature: Doc) -> Doc:
    """The monitoring_config for one feature: the file's, defaults filled in, its overrides applied."""
    merged = copy.deepcopy(DEFAULT_MONITORING_CONFIG)
    for source in (constraints.get("monitoring_config") or {}, feature.get("monitoringConfigOverrides") or {}):
        for key, value in source.items():
            if isinstance(value, dict):
                merged.setdefault(key, {}).update(value)
            else:
                merged[key] = value
    distribution = merged["distribution_constraints"]
    given = {**((constraints.get("monitoring_config") or {}).get("distribution_constraints") or {}),
             **((feature.get("monitoringConfigOverrides") or {}).get("distribution_constraints") or {})}
    if "categorical_comparison_threshold" not in given:  # documented: defaults to comparison_threshold
        distribution["categorical_comparison_threshold"] = distribution["comparison_threshold"]
    if distribution.get("comparison_method") not in COMPARISON_METHODS:
        raise ValidationError(f"constraints: comparison_method '{distribution.get('comparison_method')}' is not "
                              "Simple or Robust")
    if distribution.get("categorical_drift_method") != "LInfinity":
        raise ValidationError(f"constraints: categorical_drift_method "
                              f"'{distribution.get('categorical_drift_method')}' is not supported (LInfinity is)")
    return merged
