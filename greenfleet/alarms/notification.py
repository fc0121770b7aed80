"""What an alarm transition sends: the EventBridge event ("CloudWatch Alarm State Change" from
``aws.cloudwatch``) and the webhook body of its actions, shaped like the SNS message CloudWatch publishes."""

from __future__ import annotations

import json
from typing import Any

from greenfleet.alarms.spec import AlarmSpec
from greenfleet.metrics.query import MetricStat
from greenfleet.metrics.timestamps import iso_offset

SOURCE = "aws.cloudwatch"
DETAIL_TYPE = "CloudWatch Alarm State Change"


def _metric_stat(ms: MetricStat) -> dict[str, Any]:
    return {"metric": {"namespace": ms.key.namespace, "name": ms.key.name,
                       "dimensions": ms.key.dimension_map()},
            "period": ms.period, "stat": ms.stat.name, **({"unit": ms.unit} if ms.unit else {})}


def configuration(spec: AlarmSpec) -> dict[str, Any]:
    if spec.metric is not None:
        metrics = [{"id": "m1", "metricStat": _metric_stat(spec.metric), "returnData": True}]
    else:
        metrics = []
        for q in spec.queries:
            item: dict[str, Any] = {"id": q.id, "returnData": q.return_data}
            if q.metric_stat is not None:
                item["metricStat"] = _metric_stat(q.metric_stat)
            if q.expression is not None:
                item["expression"] = q.expression.text
            if q.label is not None:
                item["label"] = q.label
            metrics.append(item)
    out: dict[str, Any] = {"metrics": metrics}
    if spec.description is not None:
        out["description"] = spec.description
    return out


def _state(value: str, reason: str, reason_data: str | None, at: float) -> dict[str, Any]:
    out: dict[str, Any] = {"value": value, "reason": reason, "timestamp": iso_offset(at)}
    if reason_data:
        out["reasonData"] = reason_data
    return out


def event_detail(spec: AlarmSpec, new: tuple[str, str, str | None, float],
                 old: tuple[str, str, str | None, float]) -> dict[str, Any]:
    """``new`` and ``old`` are (state, reason, reason data, timestamp)."""
    return {"alarmName": spec.name, "state": _state(*new), "previousState": _state(*old),
            "configuration": configuration(spec)}


def action_payload(spec: AlarmSpec, arn: str, account_id: str, region: str, configured_at: float,
                   old_state: str, new_state: str, reason: str, reason_data: str | None, now: float,
                   event_id: str) -> dict[str, Any]:
    trigger: dict[str, Any] = {"EvaluationPeriods": spec.evaluation_periods,
                               "DatapointsToAlarm": spec.datapoints_to_alarm,
                               "ComparisonOperator": spec.comparison, "Threshold": spec.threshold,
                               "TreatMissingData": spec.treat_missing_data,
                               "EvaluateLowSampleCountPercentile": spec.evaluate_low_sample_count_percentile or ""}
    if spec.metric is not None:
        m = spec.metric
        trigger.update({"MetricName": m.key.name, "Namespace": m.key.namespace,
                        "StatisticType": "ExtendedStatistic" if m.stat.extended else "Statistic",
                        "Statistic": m.stat.name if m.stat.extended else m.stat.name.upper(), "Unit": m.unit,
                        "Dimensions": [{"value": v, "name": n} for n, v in m.key.dimensions],
                        "Period": m.period})
    else:
        trigger.update({"Period": spec.period, "Metrics": [q.to_dict() for q in spec.queries]})
    return {"AlarmName": spec.name, "AlarmDescription": spec.description, "AWSAccountId": account_id,
            "AlarmConfigurationUpdatedTimestamp": iso_offset(configured_at), "NewStateValue": new_state,
            "NewStateReason": reason, "NewStateReasonData": json.loads(reason_data) if reason_data else None,
            "StateChangeTime": iso_offset(now), "Region": region, "AlarmArn": arn, "OldStateValue": old_state,
            "OKActions": list(spec.ok_actions), "AlarmActions": list(spec.alarm_actions),
            "InsufficientDataActions": list(spec.insufficient_data_actions), "Trigger": trigger,
            "EventId": event_id}
