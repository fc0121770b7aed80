"""A MetricAlarm's configuration, validated from PutMetricAlarm's request shape, with messages that name
the field at fault.

Differences from CloudWatch, all deliberate: Period may be any whole number of seconds ≥ 1 (CloudWatch:
10, 20, 30 or a multiple of 60) so that tests and local use are fast; actions are http(s) webhook URLs or
CloudWatch's action ARNs, delivered as webhooks (``greenfleet.alarms.actions``); anomaly-detection
alarms (ThresholdMetricId and the three anomaly comparison operators) are not supported.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from greenfleet.alarms.actions import check_action
from greenfleet.errors import ValidationError
from greenfleet.metrics.errors import validation
from greenfleet.metrics.query import (
    DataQuery,
    MetricStat,
    check_period,
    check_unit,
    parse_metric,
    parse_queries,
    query_periods,
)
from greenfleet.metrics.series import SeriesKey
from greenfleet.metrics.statistics import BASIC_STATISTICS, parse_statistic

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
STATES = (OK, ALARM, INSUFFICIENT_DATA)
TREATMENTS = ("breaching", "notBreaching", "ignore", "missing")
COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}
_ANOMALY = ("LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold")
_FIELDS = {"AlarmName", "AlarmDescription", "ActionsEnabled", "OKActions", "AlarmActions",
           "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions",
           "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator",
           "TreatMissingData", "EvaluateLowSampleCountPercentile", "Metrics", "Tags", "ThresholdMetricId"}
_SINGLE_METRIC_FIELDS = ("MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period",
                         "Unit")
MAX_ACTIONS = 5
MAX_METRICS = 10
MAX_SUB_HOUR_RANGE_S = 86_400
MAX_RANGE_S = 7 * 86_400


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    name: str
    description: str | None
    actions_enabled: bool
    ok_actions: tuple[str, ...]
    alarm_actions: tuple[str, ...]
    insufficient_data_actions: tuple[str, ...]
    metric: MetricStat | None  # the single-metric form; else ``queries``
    queries: tuple[DataQuery, ...]
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing_data: str
    evaluate_low_sample_count_percentile: str | None

    def breaches(self, value: float) -> bool:
        return COMPARISONS[self.comparison][0](value, self.threshold)

    @property
    def return_query(self) -> DataQuery | None:
        return next((q for q in self.queries if q.return_data), None)

    def actions_for(self, state: str) -> tuple[str, ...]:
        return {OK: self.ok_actions, ALARM: self.alarm_actions,
                INSUFFICIENT_DATA: self.insufficient_data_actions}[state]

    def series_keys(self) -> list[SeriesKey]:
        if self.metric is not None:
            return [self.metric.key]
        return [q.metric_stat.key for q in self.queries if q.metric_stat is not None]

    def to_dict(self) -> dict[str, Any]:
        """The configuration members of CloudWatch's MetricAlarm."""
        out: dict[str, Any] = {"AlarmName": self.name}
        if self.description is not None:
            out["AlarmDescription"] = self.description
        out.update({"ActionsEnabled": self.actions_enabled, "OKActions": list(self.ok_actions),
                    "AlarmActions": list(self.alarm_actions),
                    "InsufficientDataActions": list(self.insufficient_data_actions)})
        if self.metric is not None:
            m = self.metric
            out.update({"MetricName": m.key.name, "Namespace": m.key.namespace,
                        "Dimensions": m.key.dimension_list(), "Period": m.period})
            out["ExtendedStatistic" if m.stat.extended else "Statistic"] = m.stat.name
            if m.unit is not None:
                out["Unit"] = m.unit
        else:
            out["Metrics"] = [q.to_dict() for q in self.queries]
        out.update({"EvaluationPeriods": self.evaluation_periods, "DatapointsToAlarm": self.datapoints_to_alarm,
                    "Threshold": self.threshold, "ComparisonOperator": self.comparison,
                    "TreatMissingData": self.treat_missing_data})
        if self.evaluate_low_sample_count_percentile is not None:
            out["EvaluateLowSampleCountPercentile"] = self.evaluate_low_sample_count_percentile
        return out


def _int(value: Any, field: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValidationError(f"{field} must be a whole number ≥ {minimum} (got {value!r})")
    return value


def _actions(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValidationError(f"{field} must be a list of webhook URLs or action ARNs")
    if len(value) > MAX_ACTIONS:
        raise ValidationError(f"The collection {field} must not have a size greater than {MAX_ACTIONS}.")
    return tuple(check_action(action, f"{field}.member.{i}") for i, action in enumerate(value, 1))


def _single_metric(body: Mapping[str, Any]) -> MetricStat:
    for required in ("MetricName", "Namespace", "Period"):
        if body.get(required) is None:
            raise ValidationError(f"{required} is required (or give Metrics instead)")
    statistic, extended = body.get("Statistic"), body.get("ExtendedStatistic")
    if (statistic is None) == (extended is None):
        raise ValidationError("exactly one of Statistic or ExtendedStatistic is required")
    if statistic is not None:
        if statistic not in BASIC_STATISTICS:
            raise ValidationError(f"Statistic: '{statistic}' is not one of {', '.join(BASIC_STATISTICS)}; "
                                  "percentiles and trimmed means go in ExtendedStatistic")
        stat = parse_statistic(statistic, "Statistic")
    else:
        try:
            stat = parse_statistic(extended, "ExtendedStatistic")
        except ValidationError:
            raise ValidationError(f"The value {extended} for parameter ExtendedStatistic is not supported.") \
                from None
        if not stat.extended:
            raise ValidationError(f"ExtendedStatistic: '{extended}' is a basic statistic; put it in Statistic")
    key = parse_metric({k: body.get(k) for k in ("Namespace", "MetricName", "Dimensions")}, "Metric")
    return MetricStat(key, check_period(body.get("Period")), stat, check_unit(body.get("Unit")))


def _metrics_form(body: Mapping[str, Any]) -> tuple[DataQuery, ...]:
    given = [name for name in _SINGLE_METRIC_FIELDS if body.get(name) is not None]
    if given:
        raise ValidationError(f"{', '.join(given)} must not be given with Metrics: the period, statistic "
                              "and metric of each entry go in its MetricStat")
    queries = tuple(parse_queries(body["Metrics"], "Metrics"))
    if sum(1 for q in queries if q.metric_stat is not None) > MAX_METRICS:
        raise ValidationError(f"Metrics may use at most {MAX_METRICS} metrics")
    returned = [q.id for q in queries if q.return_data]
    if len(returned) != 1:
        raise ValidationError(f"Metrics: exactly one entry must have ReturnData true, the one the alarm "
                              f"watches (got {len(returned)}: {', '.join(returned) or 'none'}); ReturnData "
                              "defaults to true, so set it to false on the others")
    return queries


def parse_alarm(body: Mapping[str, Any], name: str | None = None, *, max_raw_range_s: int = 3 * 3600) -> AlarmSpec:
    """Validate a PutMetricAlarm request; ``name`` (from the URL) must match AlarmName when both are given."""
    if not isinstance(body, Mapping):
        raise ValidationError("the request must be an object in PutMetricAlarm's shape")
    unknown = set(body) - _FIELDS
    if unknown:
        raise ValidationError(f"unknown member(s): {', '.join(sorted(unknown))}")
    alarm_name = body.get("AlarmName", name)
    if name is not None and alarm_name != name:
        raise ValidationError(f"AlarmName '{alarm_name}' does not match the alarm named in the path '{name}'")
    if not isinstance(alarm_name, str) or not 1 <= len(alarm_name) <= 255 or not alarm_name.isascii():
        raise ValidationError("AlarmName must be 1 to 255 ASCII characters")
    if any(c in alarm_name for c in "/?#") or alarm_name != alarm_name.strip():
        raise ValidationError("AlarmName must not contain '/', '?', '#' or start or end with spaces")
    description = body.get("AlarmDescription")
    if description is not None and (not isinstance(description, str) or len(description) > 1024):
        raise ValidationError("AlarmDescription must be a string of at most 1024 characters")
    if body.get("ThresholdMetricId") is not None or body.get("ComparisonOperator") in _ANOMALY:
        raise ValidationError("anomaly detection alarms (ThresholdMetricId, band comparison operators) are "
                              "not supported; give a static Threshold")
    actions_enabled = body.get("ActionsEnabled", True)
    if not isinstance(actions_enabled, bool):
        raise ValidationError("ActionsEnabled must be true or false")
    if body.get("Metrics") is not None:
        metric, queries = None, _metrics_form(body)
        periods = set(query_periods(queries, "Metrics").values())
        if len(periods) > 1:
            raise ValidationError("Metrics: every MetricStat of an alarm must use the same Period")
        period = periods.pop()
    else:
        metric, queries = _single_metric(body), ()
        period = metric.period
    n = _int(body.get("EvaluationPeriods"), "EvaluationPeriods")
    m = _int(body.get("DatapointsToAlarm", n), "DatapointsToAlarm")
    if m > n:
        raise ValidationError(f"DatapointsToAlarm ({m}) must not exceed EvaluationPeriods ({n})")
    limit = MAX_SUB_HOUR_RANGE_S if period < 3600 else MAX_RANGE_S
    if period * n > limit:
        raise ValidationError(f"Period x EvaluationPeriods is {period * n} s; it must not exceed {limit} s")
    if period % 60 and period * (n + 2) > max_raw_range_s:
        raise ValidationError(f"with a Period that is not a multiple of 60, Period x (EvaluationPeriods + 2) "
                              f"must stay within the {max_raw_range_s} s that one-second points are kept")
    threshold = body.get("Threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        raise ValidationError("Threshold is required and must be a number")
    comparison = body.get("ComparisonOperator")
    if comparison not in COMPARISONS:
        raise ValidationError(f"ComparisonOperator must be one of {', '.join(COMPARISONS)} (got {comparison!r})")
    treat = body.get("TreatMissingData", "missing")
    if treat not in TREATMENTS:
        raise ValidationError(f"TreatMissingData must be one of {', '.join(TREATMENTS)} (got {treat!r})")
    low = body.get("EvaluateLowSampleCountPercentile")
    if low is not None:
        if low not in ("evaluate", "ignore"):
            raise validation(f"Option {low} is not supported. Supported options for parameter "
                             "EvaluateLowSampleCountPercentile are evaluate and ignore.")
        if metric is None or metric.stat.kind != "percentile":
            raise ValidationError("EvaluateLowSampleCountPercentile applies only to a percentile "
                                  "ExtendedStatistic")
    return AlarmSpec(alarm_name, description, actions_enabled, _actions(body.get("OKActions"), "OKActions"),
                     _actions(body.get("AlarmActions"), "AlarmActions"),
                     _actions(body.get("InsufficientDataActions"), "InsufficientDataActions"),
                     metric, queries, period, n, m, float(threshold), str(comparison), str(treat), low)
