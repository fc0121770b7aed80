"""Model Monitor on the native REST API: monitoring schedules, their executions, data- and model-quality
job definitions (bodies and answers in SageMaker's shapes), baselining (a processing job in SageMaker)
and greenfleet's per-feature report of an execution."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, Request

from greenfleet.api.routing import Doc, json_body, query, route, services, with_path_name
from greenfleet.errors import ValidationError

if TYPE_CHECKING:  # the services (and their statistics libraries) are loaded by the server that runs them
    from greenfleet.monitoring.definitions import JobDefinitionService
    from greenfleet.monitoring.service import MonitoringService

router = APIRouter()
SCHEDULE = "MonitoringScheduleName"
JOB = "JobDefinitionName"


def _monitoring(request: Request) -> MonitoringService:
    service = services(request).monitoring
    if service is None:
        raise ValidationError("Model Monitor is not running on this server")
    return service


def _jobs(request: Request) -> JobDefinitionService:
    service = services(request).monitoring_jobs
    if service is None:
        raise ValidationError("Model Monitor is not running on this server")
    return service


@route(router, "SuggestBaseline")
def suggest_baseline(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _monitoring(request).suggest_baseline(body)


@route(router, "CreateMonitoringSchedule")
def create_schedule(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _monitoring(request).create_monitoring_schedule(body)


@route(router, "ListMonitoringSchedules")
def list_schedules(request: Request) -> Doc:
    return _monitoring(request).list_monitoring_schedules(query(request))


@route(router, "DescribeMonitoringSchedule")
def describe_schedule(request: Request, name: str) -> Doc:
    return _monitoring(request).describe_monitoring_schedule({SCHEDULE: name})


@route(router, "UpdateMonitoringSchedule")
def update_schedule(request: Request, name: str, body: Doc = Depends(json_body)) -> Doc:
    return _monitoring(request).update_monitoring_schedule(with_path_name(body, SCHEDULE, name))


@route(router, "StartMonitoringSchedule")
def start_schedule(request: Request, name: str) -> Doc:
    return _monitoring(request).start_monitoring_schedule({SCHEDULE: name})


@route(router, "StopMonitoringSchedule")
def stop_schedule(request: Request, name: str) -> Doc:
    return _monitoring(request).stop_monitoring_schedule({SCHEDULE: name})


@route(router, "DeleteMonitoringSchedule")
def delete_schedule(request: Request, name: str) -> Doc:
    return _monitoring(request).delete_monitoring_schedule({SCHEDULE: name})


@route(router, "ListMonitoringExecutions")
def list_executions(request: Request) -> Doc:
    return _monitoring(request).list_monitoring_executions(query(request))


@route(router, "ListMonitoringExecutions", 1)
def list_schedule_executions(request: Request, name: str) -> Doc:
    return _monitoring(request).list_monitoring_executions(with_path_name(query(request), SCHEDULE, name))


@route(router, "MonitoringReport")
def report(request: Request, name: str) -> Doc:
    return _monitoring(request).monitoring_report(name)


@route(router, "CreateDataQualityJobDefinition")
def create_data_quality(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _jobs(request).create_data_quality_job_definition(body)


@route(router, "ListDataQualityJobDefinitions")
def list_data_quality(request: Request) -> Doc:
    return _jobs(request).list_data_quality_job_definitions(query(request))


@route(router, "DescribeDataQualityJobDefinition")
def describe_data_quality(request: Request, name: str) -> Doc:
    return _jobs(request).describe_data_quality_job_definition({JOB: name})


@route(router, "DeleteDataQualityJobDefinition")
def delete_data_quality(request: Request, name: str) -> Doc:
    return _jobs(request).delete_data_quality_job_definition({JOB: name})


@route(router, "CreateModelQualityJobDefinition")
def create_model_quality(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _jobs(request).create_model_quality_job_definition(body)


@route(router, "ListModelQualityJobDefinitions")
def list_model_quality(request: Request) -> Doc:
    return _jobs(request).list_model_quality_job_definitions(query(request))


@route(router, "DescribeModelQualityJobDefinition")
def describe_model_quality(request: Request, name: str) -> Doc:
    return _jobs(request).describe_model_quality_job_definition({JOB: name})


@route(router, "DeleteModelQualityJobDefinition")
def delete_model_quality(request: Request, name: str) -> Doc:
    return _jobs(request).delete_model_quality_job_definition({JOB: name})
