"""What the monitoring pages show, read from Model Monitor's service: every schedule with its latest
execution, the newest executions of all schedules, and one schedule with its executions and the violations
and per-feature figures of its latest report."""

from __future__ import annotations

from typing import Any

from greenfleet.errors import GreenfleetError
from greenfleet.monitoring.service import MonitoringService, execution_summary

__all__ = ["overview", "schedule_view"]

Doc = dict[str, Any]
EXECUTIONS_SHOWN = 25


def _expression(config: Doc) -> str:
    return str((config.get("ScheduleConfig") or {}).get("ScheduleExpression") or "—")


def overview(service: MonitoringService) -> Doc:
    """Every schedule (by name) with its latest execution, and the newest executions of all (two reads)."""
    executions = service.repo.executions()
    latest: dict[str, Doc] = {}
    for row in executions:  # oldest first: the last one seen per schedule is its latest
        latest[row["schedule_name"]] = execution_summary(row)
    schedules = [{"Name": row["name"], "EndpointName": row["endpoint_name"], "Type": row["monitoring_type"],
                  "Status": row["status"], "Expression": _expression(row["config"]),
                  "FailureReason": row["failure_reason"], "Latest": latest.get(row["name"])}
                 for row in sorted(service.repo.schedules(), key=lambda r: r["name"])]
    newest = [execution_summary(r) for r in reversed(executions[-EXECUTIONS_SHOWN:])]
    return {"Schedules": schedules, "Executions": newest}


def _baseline(described: Doc) -> Doc:
    job = (described["MonitoringScheduleConfig"].get("MonitoringJobDefinition") or {})
    return job.get("BaselineConfig") or {}


def schedule_view(service: MonitoringService, name: str) -> Doc:
    """One schedule: DescribeMonitoringSchedule's answer, its executions (newest first) and the latest
    report (None until an execution has written one; its reason when it cannot be read)."""
    described = service.describe_monitoring_schedule({"MonitoringScheduleName": name})
    executions = [execution_summary(r) for r in reversed(service.repo.executions(described["MonitoringScheduleName"]))]
    report: Doc | None = None
    missing: str | None = None
    try:
        report = service.monitoring_report(described["MonitoringScheduleName"])
    except GreenfleetError as exc:
        missing = exc.message
    return {"Schedule": described, "Expression": _expression(described["MonitoringScheduleConfig"]),
            "Baseline": _baseline(described), "Executions": executions[:EXECUTIONS_SHOWN],
            "ExecutionCount": len(executions), "Report": report, "NoReport": missing}
