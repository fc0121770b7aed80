"""CloudWatch's operations, free of any wire protocol: each request (already decoded into CloudWatch's
shapes) is validated against botocore's cloudwatch model, handed to MetricService or AlarmService, and
their errors are given CloudWatch's codes. The JSON 1.0 and query codecs call ``call``.

Pagination tokens are opaque base64 JSON: DescribeAlarms resumes after an alarm name, DescribeAlarmHistory
after a (timestamp, items seen at that timestamp) mark, ListMetrics after an offset.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

from greenfleet.errors import (
    ConflictError,
    GreenfleetError,
    ResourceLimitExceeded,
    ResourceNotFound,
    ValidationError,
)
from greenfleet.metrics.errors import ParameterError
from greenfleet.metrics.putdata import first_non_finite
from greenfleet.metrics.timestamps import parse_time
from greenfleet.resources.servicemodel import service_model, validate_input

log = logging.getLogger("greenfleet.api.cloudwatch")
SERVICE = "cloudwatch"
Doc = dict[str, Any]
Operation = Callable[[Any, Doc], Doc]

DESCRIBE_ALARMS_PAGE = 50  # CloudWatch's default MaxRecords
HISTORY_PAGE = 100
LIST_METRICS_PAGE = 500
BAD_TOKEN = "Request parameter NextToken is invalid"  # CloudWatch's words
ROUNDING_S = 0.0000005  # timestamps are shown rounded to the microsecond, then cut to the millisecond


class CloudWatchError(Exception):
    """An error as CloudWatch names it: ``code`` (InvalidParameterValue, ResourceNotFound, ...)."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


_TRANSLATED: tuple[tuple[type[GreenfleetError], str, int], ...] = (
    (ResourceNotFound, "ResourceNotFound", 404),
    (ResourceLimitExceeded, "LimitExceeded", 400),
    (ConflictError, "ResourceConflict", 409),
    (ValidationError, "InvalidParameterValue", 400),
)


def translate(error: GreenfleetError) -> CloudWatchError:
    if isinstance(error, ParameterError):
        return CloudWatchError(error.cloudwatch_code, error.message, 400)
    for kind, code, status in _TRANSLATED:
        if isinstance(error, kind):
            return CloudWatchError(code, error.message, status)
    return CloudWatchError("InternalServiceError", error.message, 500)


@functools.cache
def error_shape_name(code: str) -> str:
    """The model's shape name for a query error code (InvalidParameterValue → InvalidParameterValueException),
    which the JSON protocol puts in ``__type``; a shape named like the code wins (ResourceNotFound is the code
    of two shapes), and the code itself is used when the model has no such error."""
    names = [str(shape.name) for shape in service_model(SERVICE).error_shapes
             if shape.metadata.get("error", {}).get("code") == code]
    return code if code in names or not names else names[0]


# -- tokens -----------------------------------------------------------------------------------------------
def _token(kind: str, value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": kind, "v": value}).encode()).decode()


def _read_token(params: Mapping[str, Any], kind: str) -> Any:
    token = params.get("NextToken")
    if token is None:
        return None
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeError):
        decoded = None
    if not isinstance(decoded, dict) or decoded.get("k") != kind:
        raise CloudWatchError("InvalidNextToken", BAD_TOKEN)
    return decoded["v"]


# -- alarms -----------------------------------------------------------------------------------------------
def put_metric_alarm(services: Any, params: Doc) -> Doc:
    services.alarms.put_alarm(params)
    return {}


def describe_alarms(services: Any, params: Doc) -> Doc:
    names, prefix = params.get("AlarmNames"), params.get("AlarmNamePrefix")
    if names and prefix:
        raise CloudWatchError("InvalidParameterCombination", "AlarmNames and AlarmNamePrefix cannot be combined.")
    types = params.get("AlarmTypes") or ["MetricAlarm"]
    composite_filters = params.get("ChildrenOfAlarmName") or params.get("ParentsOfAlarmName")
    alarms: list[Doc] = []
    if "MetricAlarm" in types and not composite_filters:  # greenfleet has no composite alarms
        alarms = services.alarms.describe_alarms(names or None, prefix, params.get("StateValue"),
                                                 params.get("ActionPrefix"))
    after = _read_token(params, "alarms")
    if after is not None:
        if not isinstance(after, str):
            raise CloudWatchError("InvalidNextToken", BAD_TOKEN)
        alarms = [a for a in alarms if a["AlarmName"] > after]
    limit = params.get("MaxRecords") or DESCRIBE_ALARMS_PAGE
    out: Doc = {"MetricAlarms": alarms[:limit]}
    if "CompositeAlarm" in types:
        out["CompositeAlarms"] = []
    if len(alarms) > limit:
        out["NextToken"] = _token("alarms", alarms[limit - 1]["AlarmName"])
    return out


def _watched_metrics(alarm: Mapping[str, Any]) -> list[Doc]:
    """(namespace, name, dimensions, period, statistic, unit) of each metric an alarm reads."""
    if "MetricName" in alarm:
        return [{"Namespace": alarm["Namespace"], "MetricName": alarm["MetricName"],
                 "Dimensions": alarm.get("Dimensions", []), "Period": alarm.get("Period"),
                 "Stat": alarm.get("Statistic") or alarm.get("ExtendedStatistic"), "Unit": alarm.get("Unit")}]
    found = []
    for query in alarm.get("Metrics", []):
        stat = query.get("MetricStat")
        if stat:
            found.append({**stat["Metric"], "Period": stat["Period"], "Stat": stat["Stat"],
                          "Unit": stat.get("Unit")})
    return found


def _matches(metric: Mapping[str, Any], params: Mapping[str, Any]) -> bool:
    if metric["Namespace"] != params["Namespace"] or metric["MetricName"] != params["MetricName"]:
        return False
    wanted = params.get("Dimensions")
    if wanted is not None and {(d["Name"], d["Value"]) for d in wanted} != \
            {(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])}:
        return False
    statistic = params.get("Statistic") or params.get("ExtendedStatistic")
    return all(given is None or given == metric.get(field)
               for field, given in (("Stat", statistic), ("Period", params.get("Period")),
                                    ("Unit", params.get("Unit"))))


def describe_alarms_for_metric(services: Any, params: Doc) -> Doc:
    alarms = services.alarms.describe_alarms()
    return {"MetricAlarms": [a for a in alarms if any(_matches(m, params) for m in _watched_metrics(a))]}


def delete_alarms(services: Any, params: Doc) -> Doc:
    services.alarms.delete_alarms(params["AlarmNames"])
    return {}


def set_alarm_state(services: Any, params: Doc) -> Doc:
    data = params.get("StateReasonData")
    if data is not None:
        try:
            json.loads(data)
        except ValueError as exc:
            raise CloudWatchError("InvalidFormat", f"StateReasonData is not valid JSON: {exc}") from None
    services.alarms.set_alarm_state(params["AlarmName"], params["StateValue"], params["StateReason"], data)
    return {}


def describe_alarm_history(services: Any, params: Doc) -> Doc:
    types = params.get("AlarmTypes")
    if types is not None and "MetricAlarm" not in types:
        return {"AlarmHistoryItems": []}
    descending = params.get("ScanBy", "TimestampDescending") == "TimestampDescending"
    start, end = params.get("StartDate"), params.get("EndDate")
    mark = _read_token(params, "history")
    skip = 0
    if mark is not None:
        # Resume at the last item's millisecond (as shown, rounded): read it again, skip what was sent.
        if not (isinstance(mark, list) and len(mark) == 2 and isinstance(mark[1], int)):
            raise CloudWatchError("InvalidNextToken", BAD_TOKEN)
        shown, skip = parse_time(mark[0], "NextToken"), mark[1]
        low, high = shown - ROUNDING_S, shown + 0.001 - ROUNDING_S
        if descending:
            end = high if end is None else min(parse_time(end, "EndDate"), high)
        else:
            start = low if start is None else max(parse_time(start, "StartDate"), low)
    limit = params.get("MaxRecords") or HISTORY_PAGE
    items = services.alarms.history(params.get("AlarmName"), params.get("HistoryItemType"), start, end,
                                    skip + limit + 1, descending)[skip:]
    out: Doc = {"AlarmHistoryItems": items[:limit]}
    if len(items) > limit:
        last = items[limit - 1]["Timestamp"]
        seen = sum(1 for item in items[:limit] if item["Timestamp"] == last)
        out["NextToken"] = _token("history", [last, seen + (skip if mark is not None and last == mark[0] else 0)])
    return out


def _set_actions(enabled: bool) -> Operation:
    def operation(services: Any, params: Doc) -> Doc:
        existing = services.alarms.states(params["AlarmNames"])  # CloudWatch ignores unknown names
        services.alarms.set_actions_enabled([n for n in params["AlarmNames"] if n in existing], enabled)
        return {}

    return operation


# -- metrics ----------------------------------------------------------------------------------------------
def put_metric_data(services: Any, params: Doc) -> Doc:
    if params.get("EntityMetricData"):
        raise CloudWatchError("InvalidParameterValue", "EntityMetricData is not supported by greenfleet; "
                                                       "send MetricData.")
    services.metrics.put_metric_data({"Namespace": params.get("Namespace"),
                                      "MetricData": params.get("MetricData")})
    return {}


def get_metric_data(services: Any, params: Doc) -> Doc:
    return services.metrics.get_metric_data(params)  # type: ignore[no-any-return]


def get_metric_statistics(services: Any, params: Doc) -> Doc:
    return services.metrics.get_metric_statistics(params)  # type: ignore[no-any-return]


def list_metrics(services: Any, params: Doc) -> Doc:
    metrics = services.metrics.list_metrics(params.get("Namespace"), params.get("MetricName"),
                                            params.get("Dimensions"))["Metrics"]
    offset = _read_token(params, "metrics") or 0
    if not isinstance(offset, int) or offset < 0:
        raise CloudWatchError("InvalidNextToken", BAD_TOKEN)
    out: Doc = {"Metrics": metrics[offset:offset + LIST_METRICS_PAGE]}
    if len(metrics) > offset + LIST_METRICS_PAGE:
        out["NextToken"] = _token("metrics", offset + LIST_METRICS_PAGE)
    return out


OPERATIONS: dict[str, Operation] = {
    "PutMetricAlarm": put_metric_alarm,
    "DescribeAlarms": describe_alarms,
    "DescribeAlarmsForMetric": describe_alarms_for_metric,
    "DeleteAlarms": delete_alarms,
    "SetAlarmState": set_alarm_state,
    "DescribeAlarmHistory": describe_alarm_history,
    "EnableAlarmActions": _set_actions(True),
    "DisableAlarmActions": _set_actions(False),
    "PutMetricData": put_metric_data,
    "GetMetricData": get_metric_data,
    "GetMetricStatistics": get_metric_statistics,
    "ListMetrics": list_metrics,
}


def call(services: Any, operation: str, params: Doc) -> Doc:
    """Run one operation (a key of OPERATIONS) on decoded params; raises CloudWatchError."""
    if operation == "PutMetricData":  # CloudWatch names a NaN before any other complaint about the request
        refused = first_non_finite(params.get("MetricData"))
        if refused is not None:
            raise CloudWatchError("InvalidParameterValue", refused.message)
    try:
        validate_input(SERVICE, operation, params)
    except ValidationError as exc:
        missing = exc.message.split(": ", 1)[-1].startswith("Value null at")
        raise CloudWatchError("MissingParameter" if missing else "InvalidParameterValue", exc.message) from None
    try:
        return OPERATIONS[operation](services, params)
    except CloudWatchError:
        raise
    except GreenfleetError as exc:
        raise translate(exc) from None
    except Exception:
        log.exception("CloudWatch %s failed", operation)
        raise CloudWatchError("InternalServiceError", "An internal error occurred; the request can be retried.",
                              500) from None


__all__ = ["OPERATIONS", "CloudWatchError", "call", "error_shape_name", "translate"]
