"""Scaling policy configurations as the API takes them, validated into typed values the controller reads.

Target tracking watches one metric: a predefined one (``SageMakerVariantInvocationsPerInstance``: AWS/SageMaker
InvocationsPerInstance, Sum, per minute; ``SageMakerVariantConcurrentRequestsPerModelHighResolution``:
AWS/SageMaker ConcurrentRequestsPerModel, Maximum, high resolution) or a customized one (a metric and
statistic, or metric math: ``Metrics`` queries of which exactly one returns data). Step scaling applies the
step whose interval (relative to its alarm's threshold) holds the breach."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

from greenfleet.errors import ValidationError

Doc = dict[str, Any]
SAGEMAKER_NAMESPACE = "AWS/SageMaker"  # greenfleet.metrics.names's (not imported: this module stays pure)
INVOCATIONS_PER_INSTANCE_METRIC = "InvocationsPerInstance"
INVOCATIONS_PER_INSTANCE = "SageMakerVariantInvocationsPerInstance"
CONCURRENT_REQUESTS = "SageMakerVariantConcurrentRequestsPerModelHighResolution"
CONCURRENT_REQUESTS_METRIC = "ConcurrentRequestsPerModel"
PREDEFINED = (INVOCATIONS_PER_INSTANCE, CONCURRENT_REQUESTS)
ADJUSTMENTS = ("ChangeInCapacity", "PercentChangeInCapacity", "ExactCapacity")
STATISTICS = ("Average", "Minimum", "Maximum", "SampleCount", "Sum")


@dataclass(frozen=True)
class WatchedMetric:
    """What a target-tracking policy watches, in CloudWatch alarm terms: one metric (``stat``) or metric
    math (``queries``, CloudWatch's Metrics members without Period, added by the alarm); ``per_minute``:
    the value is a count per period that the target states per minute (InvocationsPerInstance)."""

    namespace: str | None = None
    metric_name: str | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    stat: str | None = None
    unit: str | None = None
    queries: tuple[Doc, ...] = ()
    per_minute: bool = False


@dataclass(frozen=True)
class TargetTracking:
    target: float
    metric: WatchedMetric
    scale_out_cooldown_s: float
    scale_in_cooldown_s: float
    disable_scale_in: bool


@dataclass(frozen=True)
class Step:
    lower: float | None
    upper: float | None
    adjustment: int


@dataclass(frozen=True)
class StepScaling:
    adjustment_type: str
    steps: tuple[Step, ...]
    min_magnitude: int | None
    cooldown_s: float
    aggregation: str = "Average"
    notes: tuple[str, ...] = field(default=())

    def step_for(self, breach: float) -> Step | None:
        """The step whose [lower, upper) interval holds ``breach`` (the metric minus the alarm threshold)."""
        for step in self.steps:
            low = -math.inf if step.lower is None else step.lower
            high = math.inf if step.upper is None else step.upper
            if low <= breach < high or (breach == high == 0 and step.upper == 0):
                return step
        return None


def target_tracking(raw: Doc, endpoint: str, variant: str, default_cooldown_s: float) -> TargetTracking:
    target = raw["TargetValue"]
    if not isinstance(target, int | float) or not math.isfinite(target) or target <= 0:
        raise ValidationError("TargetValue must be a positive number")
    predefined, customized = raw.get("PredefinedMetricSpecification"), raw.get("CustomizedMetricSpecification")
    if (predefined is None) == (customized is None):
        raise ValidationError("TargetTrackingScalingPolicyConfiguration must have exactly one of "
                              "PredefinedMetricSpecification or CustomizedMetricSpecification")
    dims = (("EndpointName", endpoint), ("VariantName", variant))
    if predefined is not None:
        kind = predefined["PredefinedMetricType"]
        if kind not in PREDEFINED:
            raise ValidationError(f"Unsupported predefined metric type {kind} for a SageMaker variant; use one of "
                                  f"{', '.join(PREDEFINED)}")
        if predefined.get("ResourceLabel"):
            raise ValidationError("ResourceLabel applies only to ALBRequestCountPerTarget")
        if kind == INVOCATIONS_PER_INSTANCE:
            metric = WatchedMetric(SAGEMAKER_NAMESPACE, INVOCATIONS_PER_INSTANCE_METRIC, dims, "Sum", per_minute=True)
        else:
            metric = WatchedMetric(SAGEMAKER_NAMESPACE, CONCURRENT_REQUESTS_METRIC, dims, "Maximum")
    else:
        assert customized is not None
        metric = _customized(customized)
    return TargetTracking(float(target), metric, _seconds(raw, "ScaleOutCooldown", default_cooldown_s),
                          _seconds(raw, "ScaleInCooldown", default_cooldown_s), bool(raw.get("DisableScaleIn", False)))


def _customized(raw: Doc) -> WatchedMetric:
    if raw.get("Metrics"):
        if any(raw.get(k) is not None for k in ("MetricName", "Namespace", "Dimensions", "Statistic", "Unit")):
            raise ValidationError("CustomizedMetricSpecification: give Metrics (metric math) or MetricName, "
                                  "Namespace, Dimensions, Statistic and Unit, not both")
        queries = []
        for index, q in enumerate(raw["Metrics"], start=1):
            if (q.get("Expression") is None) == (q.get("MetricStat") is None):
                raise ValidationError(f"CustomizedMetricSpecification.Metrics.{index}: give exactly one of "
                                      "Expression or MetricStat")
            entry: Doc = {"Id": q["Id"], "ReturnData": q.get("ReturnData", True)}
            if q.get("Label"):
                entry["Label"] = q["Label"]
            if q.get("Expression") is not None:
                entry["Expression"] = q["Expression"]
            else:
                stat = q["MetricStat"]
                entry["MetricStat"] = {"Metric": stat["Metric"], "Stat": stat["Stat"],
                                       **({"Unit": stat["Unit"]} if stat.get("Unit") else {})}
            queries.append(entry)
        if sum(1 for q in queries if q["ReturnData"]) != 1:
            raise ValidationError("CustomizedMetricSpecification.Metrics: exactly one query must have ReturnData "
                                  "true (it defaults to true)")
        return WatchedMetric(queries=tuple(queries))
    missing = [k for k in ("MetricName", "Namespace", "Statistic") if not raw.get(k)]
    if missing:
        raise ValidationError(f"CustomizedMetricSpecification: {', '.join(missing)} required (or give Metrics)")
    if raw["Statistic"] not in STATISTICS:
        raise ValidationError(f"CustomizedMetricSpecification.Statistic must be one of {', '.join(STATISTICS)}")
    dims = tuple((d["Name"], d["Value"]) for d in raw.get("Dimensions") or [])
    return WatchedMetric(raw["Namespace"], raw["MetricName"], dims, raw["Statistic"], raw.get("Unit"))


def step_scaling(raw: Doc, default_cooldown_s: float) -> StepScaling:
    kind = raw.get("AdjustmentType")
    if kind not in ADJUSTMENTS:
        raise ValidationError(f"StepScalingPolicyConfiguration.AdjustmentType must be one of {', '.join(ADJUSTMENTS)}")
    given = raw.get("StepAdjustments") or []
    if not given:
        raise ValidationError("StepScalingPolicyConfiguration.StepAdjustments must hold at least one step")
    steps = tuple(Step(s.get("MetricIntervalLowerBound"), s.get("MetricIntervalUpperBound"),
                       int(s["ScalingAdjustment"])) for s in given)
    ordered = sorted(steps, key=lambda s: -math.inf if s.lower is None else s.lower)
    for step in ordered:
        if step.lower is not None and step.upper is not None and step.lower >= step.upper:
            raise ValidationError("StepAdjustments: MetricIntervalLowerBound must be below MetricIntervalUpperBound")
    for before, after in itertools.pairwise(ordered):
        if before.upper is None or after.lower is None or before.upper != after.lower:
            raise ValidationError("StepAdjustments: the intervals must not overlap nor leave gaps (each step's "
                                  "lower bound is the previous step's upper bound)")
    if sum(1 for s in steps if s.lower is None) > 1 or sum(1 for s in steps if s.upper is None) > 1:
        raise ValidationError("StepAdjustments: at most one step may omit MetricIntervalLowerBound and one "
                              "MetricIntervalUpperBound")
    if kind == "ExactCapacity" and any(s.adjustment < 0 for s in steps):
        raise ValidationError("StepAdjustments: ScalingAdjustment of ExactCapacity must not be negative")
    magnitude = raw.get("MinAdjustmentMagnitude")
    if magnitude is not None and kind != "PercentChangeInCapacity":
        raise ValidationError("MinAdjustmentMagnitude applies only to AdjustmentType PercentChangeInCapacity")
    aggregation = raw.get("MetricAggregationType", "Average")
    if aggregation not in ("Average", "Minimum", "Maximum"):
        raise ValidationError("MetricAggregationType must be Average, Minimum or Maximum")
    return StepScaling(kind, tuple(ordered), magnitude, _seconds(raw, "Cooldown", default_cooldown_s), aggregation)


def _seconds(raw: Doc, key: str, default: float) -> float:
    value = raw.get(key)
    if value is None:
        return default
    if value < 0:
        raise ValidationError(f"{key} must not be negative")
    return float(value)
