"""Model Monitor on the native REST API: baselining (a processing job in SageMaker) and the schedules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

router = APIRouter(prefix="/api/monitoring")
Doc = dict[str, Any]


def _monitoring(request: Request) -> Any:
    return request.app.state.services.monitoring


@router.post("/baselines", summary="Baseline a dataset into statistics.json and constraints.json")
def suggest_baseline(request: Request, body: Doc = Body(...)) -> Doc:
    return _monitoring(request).suggest_baseline(body)  # type: ignore[no-any-return]


@router.post("/schedules", summary="CreateMonitoringSchedule")
def create_schedule(request: Request, body: Doc = Body(...)) -> Doc:
    return _monitoring(request).create_monitoring_schedule(body)  # type: ignore[no-any-return]


@router.get("/schedules", summary="ListMonitoringSchedules")
def list_schedules(request: Request) -> Doc:
    return _monitoring(request).list_monitoring_schedules({"MaxResults": 100})  # type: ignore[no-any-return]


@router.get("/schedules/{name}", summary="DescribeMonitoringSchedule")
def describe_schedule(request: Request, name: str) -> Doc:
    return _monitoring(request).describe_monitoring_schedule(  # type: ignore[no-any-return]
        {"MonitoringScheduleName": name})


@router.get("/schedules/{name}/executions", summary="ListMonitoringExecutions of one schedule")
def list_executions(request: Request, name: str) -> Doc:
    return _monitoring(request).list_monitoring_executions(  # type: ignore[no-any-return]
        {"MonitoringScheduleName": name, "MaxResults": 100})


@router.get("/schedules/{name}/report", summary="The latest execution's per-feature report")
def report(request: Request, name: str) -> Doc:
    return _monitoring(request).monitoring_report(name)  # type: ignore[no-any-return]


@router.post("/schedules/{name}/stop", summary="StopMonitoringSchedule")
def stop(request: Request, name: str) -> Doc:
    return _monitoring(request).stop_monitoring_schedule(  # type: ignore[no-any-return]
        {"MonitoringScheduleName": name})


@router.post("/schedules/{name}/start", summary="StartMonitoringSchedule")
def start(request: Request, name: str) -> Doc:
    return _monitoring(request).start_monitoring_schedule(  # type: ignore[no-any-return]
        {"MonitoringScheduleName": name})


@router.delete("/schedules/{name}", summary="DeleteMonitoringSchedule")
def delete(request: Request, name: str) -> Doc:
    return _monitoring(request).delete_monitoring_schedule(  # type: ignore[no-any-return]
        {"MonitoringScheduleName": name})
