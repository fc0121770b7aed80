"""Model Monitor's API (SageMaker's operations): the schedule operations record desired state; the
scheduler (``driver``) runs executions. DataQuality with an inline MonitoringJobDefinition runs; other
monitoring types and job definitions by name are refused with a clear error."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import ResourceInUse, ResourceNotFound, ValidationError
from greenfleet.monitoring.baseline import baseline
from greenfleet.monitoring.dataset import read_dataset
from greenfleet.monitoring.jobs import check_job, resolve_job
from greenfleet.monitoring.quality import labelled_pairs, quality_statistics, suggest_quality_constraints
from greenfleet.monitoring.report import feature_report
from greenfleet.monitoring.repository import MonitoringRepository
from greenfleet.monitoring.schedule import parse_rule
from greenfleet.monitoring.scheduler import SCHEDULED, STOPPED, first_run
from greenfleet.monitoring.uris import UriError, join, read_bytes, write_bytes
from greenfleet.resources.servicemodel import validate_input
from greenfleet.services.listing import page
from greenfleet.services.tags import TagService

Doc = dict[str, Any]
SUPPORTED_TYPES = {"DataQuality", "ModelQuality"}
SORT_SCHEDULES = {"Name": lambda i: i["MonitoringScheduleName"], "CreationTime": lambda i: i["CreationTime"],
                  "Status": lambda i: i["MonitoringScheduleStatus"]}
SORT_EXECUTIONS = {"CreationTime": lambda i: i["CreationTime"], "ScheduledTime": lambda i: i["ScheduledTime"],
                   "Status": lambda i: i["MonitoringExecutionStatus"]}


class MonitoringService:
    def __init__(self, repo: MonitoringRepository, clock: Clock, region: str, account_id: str,
                 capture_destination: Callable[[str], str | None], tags: TagService,
                 s3_endpoint_url: str | None = None, min_interval_s: float = 60.0) -> None:
        self.min_interval_s = min_interval_s
        self.repo, self.clock, self.tags, self.s3_endpoint_url = repo, clock, tags, s3_endpoint_url
        self.region, self.account_id = region, account_id
        self.capture_destination = capture_destination
        """The data-capture destination of an endpoint (None: no such endpoint or capture is off)."""
        self.changed: Callable[[], None] = lambda: None

    def arn(self, name: str, kind: str = "monitoring-schedule") -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:{kind}/{name.lower()}"

    def _check_config(self, config: Doc) -> tuple[str, str]:
        """(monitoring type, endpoint name) of a valid MonitoringScheduleConfig."""
        kind = config.get("MonitoringType", "DataQuality")
        if kind not in SUPPORTED_TYPES:
            raise ValidationError(f"MonitoringScheduleConfig.MonitoringType: {kind} monitoring is not supported by "
                                  "greenfleet yet (DataQuality and ModelQuality are)")
        if config.get("MonitoringJobDefinitionName") and config.get("MonitoringJobDefinition"):
            raise ValidationError("MonitoringScheduleConfig: give MonitoringJobDefinition or "
                                  "MonitoringJobDefinitionName, not both")
        job = resolve_job(self.repo, config)
        schedule = config.get("ScheduleConfig") or {}
        parse_rule(schedule.get("ScheduleExpression", ""), schedule.get("DataAnalysisStartTime"),
                   schedule.get("DataAnalysisEndTime"), self.min_interval_s)
        name = config.get("MonitoringJobDefinitionName")
        defined = self.repo.job_definition(name)["monitoring_type"] if name else "DataQuality"  # type: ignore[index]
        if defined != kind:
            raise ValidationError(f"MonitoringScheduleConfig: job definition {name} is a {defined} job, the "
                                  f"MonitoringType is {kind}")
        if kind == "ModelQuality":
            endpoint = str(job["ModelQualityJobInput"]["EndpointInput"]["EndpointName"])
        else:
            endpoint = check_job(job)
        if self.capture_destination(endpoint) is None:
            raise ValidationError(f"Endpoint {endpoint} does not exist or has no enabled DataCaptureConfig; "
                                  "a monitoring schedule analyses captured data")
        return kind, endpoint

    def create_monitoring_schedule(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateMonitoringSchedule", params)
        name, config = params["MonitoringScheduleName"], params["MonitoringScheduleConfig"]
        kind, endpoint = self._check_config(config)
        schedule = config["ScheduleConfig"]
        rule = parse_rule(schedule["ScheduleExpression"], schedule.get("DataAnalysisStartTime"),
                          schedule.get("DataAnalysisEndTime"), self.min_interval_s)
        now = self.clock.now()
        row = {"name": name, "arn": self.arn(name), "status": SCHEDULED, "monitoring_type": kind,
               "endpoint_name": endpoint, "config": copy.deepcopy(config), "next_run_at": first_run(rule, now),
               "failure_reason": None, "created_at": now, "modified_at": now}
        if not self.repo.insert_schedule(row):
            raise ResourceInUse(f"Monitoring schedule {self.arn(name)} already exists")
        self.tags.put(row["arn"], params.get("Tags", []))
        self.changed()
        return {"MonitoringScheduleArn": row["arn"]}

    def _schedule(self, name: str) -> Doc:
        row = self.repo.schedule(name)
        if row is None:
            raise ResourceNotFound(f"Monitoring schedule {self.arn(name)} does not exist")
        return row

    def describe_monitoring_schedule(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DescribeMonitoringSchedule", params)
        row = self._schedule(params["MonitoringScheduleName"])
        result: Doc = {"MonitoringScheduleArn": row["arn"], "MonitoringScheduleName": row["name"],
                       "MonitoringScheduleStatus": row["status"], "MonitoringType": row["monitoring_type"],
                       "CreationTime": row["created_at"], "LastModifiedTime": row["modified_at"],
                       "MonitoringScheduleConfig": row["config"], "EndpointName": row["endpoint_name"]}
        if row["failure_reason"]:
            result["FailureReason"] = row["failure_reason"]
        executions = self.repo.executions(row["name"])
        if executions:
            result["LastMonitoringExecutionSummary"] = execution_summary(executions[-1])
        return result

    def list_monitoring_schedules(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListMonitoringSchedules", params)
        items = [{"MonitoringScheduleName": r["name"], "MonitoringScheduleArn": r["arn"],
                  "CreationTime": r["created_at"], "LastModifiedTime": r["modified_at"],
                  "MonitoringScheduleStatus": r["status"], "EndpointName": r["endpoint_name"],
                  "MonitoringType": r["monitoring_type"]} for r in self.repo.schedules()]
        wanted = {k: params.get(k) for k in ("EndpointName", "StatusEquals", "MonitoringTypeEquals")}

        def keep(item: Doc) -> bool:
            return all(v is None or item[f] == v for f, v in (
                ("EndpointName", wanted["EndpointName"]), ("MonitoringScheduleStatus", wanted["StatusEquals"]),
                ("MonitoringType", wanted["MonitoringTypeEquals"])))

        chunk, token = page(items, params, "MonitoringScheduleName", SORT_SCHEDULES, extra_filter=keep)
        return {"MonitoringScheduleSummaries": chunk, **({"NextToken": token} if token else {})}

    def update_monitoring_schedule(self, params: Doc) -> Doc:
        validate_input("sagemaker", "UpdateMonitoringSchedule", params)
        row = self._schedule(params["MonitoringScheduleName"])
        config = params["MonitoringScheduleConfig"]
        kind, endpoint = self._check_config(config)
        schedule = config["ScheduleConfig"]
        rule = parse_rule(schedule["ScheduleExpression"], schedule.get("DataAnalysisStartTime"),
                          schedule.get("DataAnalysisEndTime"), self.min_interval_s)
        now = self.clock.now()
        self.repo.update_schedule(row["name"], {"config": copy.deepcopy(config), "monitoring_type": kind,
                                                "endpoint_name": endpoint, "next_run_at": first_run(rule, now),
                                                "modified_at": now})
        self.changed()
        return {"MonitoringScheduleArn": row["arn"]}

    def _set_status(self, params: Doc, operation: str, status: str) -> Doc:
        validate_input("sagemaker", operation, params)
        row = self._schedule(params["MonitoringScheduleName"])
        if row["status"] != status:
            values: Doc = {"status": status, "modified_at": self.clock.now()}
            if status == SCHEDULED:
                schedule = row["config"]["ScheduleConfig"]
                rule = parse_rule(schedule["ScheduleExpression"], schedule.get("DataAnalysisStartTime"),
                                  schedule.get("DataAnalysisEndTime"), self.min_interval_s)
                values["next_run_at"] = first_run(rule, self.clock.now())
            self.repo.update_schedule(row["name"], values)
            self.changed()
        return {}

    def start_monitoring_schedule(self, params: Doc) -> Doc:
        return self._set_status(params, "StartMonitoringSchedule", SCHEDULED)

    def stop_monitoring_schedule(self, params: Doc) -> Doc:
        return self._set_status(params, "StopMonitoringSchedule", STOPPED)

    def delete_monitoring_schedule(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteMonitoringSchedule", params)
        row = self._schedule(params["MonitoringScheduleName"])
        self.repo.delete_schedule(row["name"])
        self.tags.delete_all(row["arn"])
        return {}

    def suggest_baseline(self, params: Doc) -> Doc:
        """Baselining (SageMaker runs it as a processing job): ``DatasetUri`` (CSV or JSON lines),
        ``DatasetFormat`` (csv | json), ``Header`` (CSV), ``OutputUri`` → statistics.json, constraints.json."""
        for required in ("DatasetUri", "DatasetFormat", "OutputUri"):
            if not params.get(required):
                raise ValidationError(f"{required} is required")
        if params.get("ProblemType"):
            return self._suggest_quality_baseline(params)
        try:
            data = read_bytes(params["DatasetUri"], self.s3_endpoint_url)
            result = baseline(data, params["DatasetFormat"], bool(params.get("Header", False)))
            statistics, constraints = join(params["OutputUri"], "statistics.json"), \
                join(params["OutputUri"], "constraints.json")
            write_bytes(statistics, json.dumps(result.statistics, indent=1).encode(), self.s3_endpoint_url)
            write_bytes(constraints, json.dumps(result.constraints, indent=1).encode(), self.s3_endpoint_url)
        except UriError as exc:
            raise ValidationError(str(exc)) from exc
        return {"StatisticsResource": {"S3Uri": statistics}, "ConstraintsResource": {"S3Uri": constraints},
                "ItemCount": result.statistics["dataset"]["item_count"],
                "Features": [{"Name": f["name"], "InferredType": f["inferred_type"]}
                             for f in result.statistics["features"]]}

    def list_monitoring_executions(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListMonitoringExecutions", params)
        items = [execution_summary(r) for r in self.repo.executions(params.get("MonitoringScheduleName"))]
        filters: list[Callable[[Doc], bool]] = []
        if params.get("EndpointName"):
            filters.append(lambda i: i.get("EndpointName") == params["EndpointName"])
        if params.get("StatusEquals"):
            filters.append(lambda i: i["MonitoringExecutionStatus"] == params["StatusEquals"])
        if params.get("MonitoringTypeEquals"):
            filters.append(lambda i: i["MonitoringType"] == params["MonitoringTypeEquals"])
        if params.get("ScheduledTimeBefore") is not None:
            filters.append(lambda i: i["ScheduledTime"] < float(params["ScheduledTimeBefore"]))
        if params.get("ScheduledTimeAfter") is not None:
            filters.append(lambda i: i["ScheduledTime"] > float(params["ScheduledTimeAfter"]))
        chunk, token = page(items, params, "MonitoringScheduleName", SORT_EXECUTIONS,
                            extra_filter=lambda i: all(f(i) for f in filters))
        return {"MonitoringExecutionSummaries": chunk, **({"NextToken": token} if token else {})}


    def _suggest_quality_baseline(self, params: Doc) -> Doc:
        """Model-quality baselining: a labelled dataset (``GroundTruthAttribute`` and ``InferenceAttribute``
        or ``ProbabilityAttribute`` name its columns) → statistics.json and constraints.json."""
        problem = params["ProblemType"]
        if not params.get("GroundTruthAttribute"):
            raise ValidationError("GroundTruthAttribute is required: the column of the true labels")
        try:
            table = read_dataset(read_bytes(params["DatasetUri"], self.s3_endpoint_url), params["DatasetFormat"],
                                 bool(params.get("Header", False)))
            pairs = labelled_pairs(dict(zip(table.names, table.columns, strict=True)), problem,
                                   params["GroundTruthAttribute"], params.get("InferenceAttribute"),
                                   params.get("ProbabilityAttribute"),
                                   float(params.get("ProbabilityThresholdAttribute", 0.5)))
            statistics = quality_statistics(pairs, problem)
            constraints = suggest_quality_constraints(statistics, problem)
            uris = join(params["OutputUri"], "statistics.json"), join(params["OutputUri"], "constraints.json")
            write_bytes(uris[0], json.dumps(statistics, indent=1).encode(), self.s3_endpoint_url)
            write_bytes(uris[1], json.dumps(constraints, indent=1).encode(), self.s3_endpoint_url)
        except UriError as exc:
            raise ValidationError(str(exc)) from exc
        return {"StatisticsResource": {"S3Uri": uris[0]}, "ConstraintsResource": {"S3Uri": uris[1]},
                "ItemCount": len(pairs.labels), "Constraints": constraints}

    def monitoring_report(self, name: str) -> Doc:
        """greenfleet's report of a schedule's latest execution that wrote one (not a SageMaker operation)."""
        row = self._schedule(name)
        finished = [e for e in self.repo.executions(row["name"]) if e["output_uri"]]
        if not finished:
            raise ValidationError(f"Monitoring schedule {name} has no execution with a report yet")
        latest = finished[-1]
        summary = {**execution_summary(latest), "OutputUri": latest["output_uri"]}
        if row["monitoring_type"] == "ModelQuality":
            try:
                statistics = self._json(join(latest["output_uri"], "statistics.json"))
                violations = self._json(join(latest["output_uri"], "constraint_violations.json"))["violations"]
            except UriError as exc:
                raise ValidationError(str(exc)) from exc
            metrics = next(v for k, v in statistics.items() if k.endswith("_metrics"))
            return {"MonitoringScheduleName": row["name"], "EndpointName": row["endpoint_name"], "Execution": summary,
                    "Metrics": metrics, "Violations": violations}
        baseline = resolve_job(self.repo, row["config"]).get("BaselineConfig") or {}
        try:
            current = self._json(join(latest["output_uri"], "statistics.json"))
            violations = self._json(join(latest["output_uri"], "constraint_violations.json"))["violations"]
            statistics = self._json(baseline["StatisticsResource"]["S3Uri"]) \
                if baseline.get("StatisticsResource") else {"features": []}
            constraints = self._json(baseline["ConstraintsResource"]["S3Uri"]) \
                if baseline.get("ConstraintsResource") else {"features": []}
        except UriError as exc:
            raise ValidationError(str(exc)) from exc
        return {"MonitoringScheduleName": row["name"], "EndpointName": row["endpoint_name"],
                "Execution": summary,
                "Features": feature_report(constraints, statistics, current, violations), "Violations": violations}

    def _json(self, uri: str) -> Doc:
        document = json.loads(read_bytes(uri, self.s3_endpoint_url))
        if not isinstance(document, dict):
            raise ValidationError(f"{uri} is not a JSON object")
        return document


def execution_summary(row: Doc) -> Doc:
    summary: Doc = {"MonitoringScheduleName": row["schedule_name"], "ScheduledTime": row["scheduled_time"],
                    "CreationTime": row["created_at"], "LastModifiedTime": row["modified_at"],
                    "MonitoringExecutionStatus": row["status"], "EndpointName": row["endpoint_name"],
                    "MonitoringType": row["monitoring_type"]}
    if row["failure_reason"]:
        summary["FailureReason"] = row["failure_reason"]
    return summary
