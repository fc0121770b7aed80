"""CloudWatch's alarm API: PutMetricAlarm, DescribeAlarms, DescribeAlarmsForMetric, DeleteAlarms,
DescribeAlarmHistory, SetAlarmState, Enable/DisableAlarmActions. Bodies and answers are CloudWatch's shapes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from greenfleet.alarms.service import AlarmService
from greenfleet.api.aws import cloudwatch
from greenfleet.api.routing import Doc, json_body, route, services
from greenfleet.errors import ResourceNotFound, ValidationError

router = APIRouter()


def _alarms(request: Request) -> AlarmService:
    return services(request).alarms


@route(router, "PutMetricAlarm")
def put_alarm(request: Request, name: str, body: Doc = Depends(json_body)) -> Doc:
    return _alarms(request).put_alarm(body, name)


@route(router, "DescribeAlarms")
def describe_alarms(request: Request, name: list[str] | None = Query(default=None), prefix: str | None = None,
                    state: str | None = None, action_prefix: str | None = None) -> Doc:
    return {"MetricAlarms": _alarms(request).describe_alarms(name, prefix, state, action_prefix)}


@route(router, "DescribeAlarmsForMetric")
def describe_alarms_for_metric(request: Request, body: Doc = Depends(json_body)) -> Doc:
    """The alarms that read a metric, matched as CloudWatch matches them."""
    try:
        return cloudwatch.call(services(request), "DescribeAlarmsForMetric", body)
    except cloudwatch.CloudWatchError as exc:
        raise ValidationError(exc.message) from None


@route(router, "DescribeAlarm")
def describe_alarm(request: Request, name: str) -> Doc:
    return _alarms(request).describe_alarm(name)


@route(router, "DeleteAlarms")
def delete_alarm(request: Request, name: str) -> Doc:
    if not _alarms(request).delete_alarms([name]):
        raise ResourceNotFound(f"alarm '{name}' does not exist")
    return {}


def _history(request: Request, name: str | None, item_type: str | None, start: str | None, end: str | None,
             limit: int, order: str) -> Doc:
    items = _alarms(request).history(name, item_type, start, end, limit, order != "asc")
    return {"AlarmHistoryItems": items}


@route(router, "DescribeAlarmHistory")
def alarm_history(request: Request, name: str, type: str | None = None, start: str | None = None,
                  end: str | None = None, limit: int = 100, order: str = "desc") -> Doc:
    return _history(request, name, type, start, end, limit, order)


@route(router, "DescribeAlarmHistory", 1)
def all_alarm_history(request: Request, type: str | None = None, start: str | None = None,
                      end: str | None = None, limit: int = 100, order: str = "desc") -> Doc:
    """DescribeAlarmHistory of every alarm."""
    return _history(request, None, type, start, end, limit, order)


@route(router, "SetAlarmState")
def set_alarm_state(request: Request, name: str, body: Doc = Depends(json_body)) -> Doc:
    _alarms(request).set_alarm_state(name, body.get("StateValue", ""), body.get("StateReason", ""),
                                     body.get("StateReasonData"))
    return {}


@route(router, "EnableAlarmActions")
def enable_actions(request: Request, name: str) -> Doc:
    _alarms(request).set_actions_enabled([name], True)
    return {}


@route(router, "DisableAlarmActions")
def disable_actions(request: Request, name: str) -> Doc:
    _alarms(request).set_actions_enabled([name], False)
    return {}
