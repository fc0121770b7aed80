"""The two CloudWatch alarms a target-tracking policy creates and owns, as Application Auto Scaling does:
``AlarmHigh`` (above the target for ``high_periods`` of ``high_periods`` datapoints: scale out) and
``AlarmLow`` (below ``low_ratio`` x target for ``low_periods`` of ``low_periods``: scale in). They are
ordinary alarms (DescribeAlarms shows them); their AlarmActions name the policy ARN, which is how the scaling
controller finds the policy an alarm drives. The datapoint shapes are settings (AWS's: 60 s periods, 3 of 3
and 15 of 15, 0.9 x target).

Differences from AWS: an alarm name cannot hold '/' here (the REST API has it in a path), so the ResourceId's
slashes become '-' (``TargetTracking-endpoint-E-variant-V-AlarmHigh-<uuid>``). InvocationsPerInstance is a
count per period: with a period other than 60 s the threshold is the per-minute target scaled to the period.
SageMaker publishes zeros for an idle variant; greenfleet publishes nothing, so the predefined metrics' alarms
treat a missing datapoint as zero (notBreaching for AlarmHigh, breaching for AlarmLow)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from greenfleet.scaling.config import TargetTracking, WatchedMetric

Doc = dict[str, Any]


@dataclass(frozen=True)
class AlarmShape:
    period_s: int = 60
    high_periods: int = 3
    low_periods: int = 15
    low_ratio: float = 0.9


def threshold(policy: TargetTracking, shape: AlarmShape) -> float:
    """The target in the alarm's terms (per period for a per-minute count)."""
    return policy.target * shape.period_s / 60.0 if policy.metric.per_minute else policy.target


def per_target(value: float, metric: WatchedMetric, shape: AlarmShape) -> float:
    """A datapoint in the target's terms (per minute for a per-minute count)."""
    return value * 60.0 / shape.period_s if metric.per_minute else value


def alarm_bodies(policy_arn: str, resource: str, policy: TargetTracking, shape: AlarmShape) -> list[Doc]:
    """PutMetricAlarm bodies of AlarmHigh and, unless scale-in is disabled, AlarmLow."""
    tag = str(uuid.uuid4())
    base = f"TargetTracking-{resource.replace('/', '-')}"
    predefined = policy.metric.per_minute or policy.metric.namespace == "AWS/SageMaker"
    description = f"DO NOT EDIT OR DELETE. For TargetTrackingScaling policy {policy_arn}."
    level = threshold(policy, shape)
    bodies = [{"AlarmName": f"{base}-AlarmHigh-{tag}", "AlarmDescription": description,
               "AlarmActions": [policy_arn], "ComparisonOperator": "GreaterThanThreshold", "Threshold": level,
               "EvaluationPeriods": shape.high_periods, "DatapointsToAlarm": shape.high_periods,
               "TreatMissingData": "notBreaching" if predefined else "missing", **_metric(policy.metric, shape)}]
    if not policy.disable_scale_in:
        bodies.append({"AlarmName": f"{base}-AlarmLow-{tag}", "AlarmDescription": description,
                       "AlarmActions": [policy_arn], "ComparisonOperator": "LessThanThreshold",
                       "Threshold": level * shape.low_ratio, "EvaluationPeriods": shape.low_periods,
                       "DatapointsToAlarm": shape.low_periods,
                       "TreatMissingData": "breaching" if predefined else "missing", **_metric(policy.metric, shape)})
    return bodies


def _metric(metric: WatchedMetric, shape: AlarmShape) -> Doc:
    if metric.queries:
        queries = []
        for q in metric.queries:
            entry = dict(q)
            if "MetricStat" in entry:
                entry["MetricStat"] = {**entry["MetricStat"], "Period": shape.period_s}
            queries.append(entry)
        return {"Metrics": queries}
    doc: Doc = {"Namespace": metric.namespace, "MetricName": metric.metric_name, "Statistic": metric.stat,
                "Period": shape.period_s, "Dimensions": [{"Name": n, "Value": v} for n, v in metric.dimensions]}
    if metric.unit:
        doc["Unit"] = metric.unit
    return doc


def is_high(alarm_name: str) -> bool:
    return "-AlarmHigh-" in alarm_name
