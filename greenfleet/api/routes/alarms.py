"""CloudWatch's alarm API: PutMetricAlarm, DescribeAlarms, DeleteAlarms, DescribeAlarmHistory,
SetAlarmState, Enable/DisableAlarmActions. Bodies and answers are CloudWatch's shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Query, Request

from greenfleet.errors import ResourceNotFound

router = APIRouter(prefix="/api")
Doc = dict[str, Any]


def _alarms(request: Request) -> Any:
    return request.app.state.services.alarms


@router.put("/alarms/{name}", summary="PutMetricAlarm (create or replace)")
def put_alarm(request: Request, name: str, body: Doc = Body(...)) -> Doc:
    return _alarms(request).put_alarm(body, name)  # type: ignore[no-any-return]


@router.get("/alarms", summary="DescribeAlarms")
def describe_alarms(request: Request, name: list[str] | None = Query(default=None), prefix: str | None = None,
                    state: str | None = None, action_prefix: str | None = None) -> Doc:
    return {"MetricAlarms": _alarms(request).describe_alarms(name, prefix, state, action_prefix)}


@router.get("/alarms/{name}", summary="DescribeAlarms for one alarm")
def describe_alarm(request: Request, name: str) -> Doc:
    return _alarms(request).describe_alarm(name)  # type: ignore[no-any-return]


@router.delete("/alarms/{name}", summary="DeleteAlarms")
def delete_alarm(request: Request, name: str) -> Doc:
    if not _alarms(request).delete_alarms([name]):
        raise ResourceNotFound(f"alarm '{name}' does not exist")
    return {}


def _history(request: Request, name: str | None, item_type: str | None, start: str | None, end: str | None,
             limit: int, order: str) -> Doc:
    items = _alarms(request).history(name, item_type, start, end, limit, order != "asc")
    return {"AlarmHistoryItems": items}


@router.get("/alarms/{name}/history", summary="DescribeAlarmHistory of one alarm")
def alarm_history(request: Request, name: str, type: str | None = None, start: str | None = None,
                  end: str | None = None, limit: int = 100, order: str = "desc") -> Doc:
    return _history(request, name, type, start, end, limit, order)


@router.get("/alarm-history", summary="DescribeAlarmHistory of every alarm")
def all_alarm_history(request: Request, type: str | None = None, start: str | None = None,
                      end: str | None = None, limit: int = 100, order: str = "desc") -> Doc:
    return _history(request, None, type, start, end, limit, order)


@router.post("/alarms/{name}/state", summary="SetAlarmState")
def set_alarm_state(request: Request, name: str, body: Doc = Body(...)) -> Doc:
    _alarms(request).set_alarm_state(name, body.get("StateValue"), body.get("StateReason"),
                                     body.get("StateReasonData"))
    return {}


@router.post("/alarms/{name}/enable-actions", summary="EnableAlarmActions")
def enable_actions(request: Request, name: str) -> Doc:
    _alarms(request).set_actions_enabled([name], True)
    return {}


@router.post("/alarms/{name}/disable-actions", summary="DisableAlarmActions")
def disable_actions(request: Request, name: str) -> Doc:
    _alarms(request).set_actions_enabled([name], False)
    return {}
