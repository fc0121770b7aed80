"""The client's Model Monitor methods (``Client`` inherits them): SageMaker's monitoring schedules,
executions and job definitions, with botocore's member names as keywords, plus greenfleet's baselining
and per-feature report."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

Doc = dict[str, Any]
SCHEDULES = "/api/monitoring/schedules"
DATA_QUALITY = "/api/monitoring/data-quality-job-definitions"
MODEL_QUALITY = "/api/monitoring/model-quality-job-definitions"


def _path(name: str) -> str:
    return quote(name, safe="")


class MonitoringMethods:
    def _call(self, method: str, url: str, body: Doc | None = None, query: Doc | None = None) -> Doc:
        raise NotImplementedError

    # --- baselines and reports (greenfleet's own) ----------------------------------------------------
    def suggest_baseline(self, **params: Any) -> Doc:
        """Baseline a dataset: DatasetUri, DatasetFormat (csv | json), Header, OutputUri; for model quality
        also ProblemType, GroundTruthAttribute and InferenceAttribute or ProbabilityAttribute."""
        return self._call("POST", "/api/monitoring/baselines", params)

    def monitoring_report(self, MonitoringScheduleName: str) -> Doc:
        """The per-feature report of the schedule's latest execution that wrote one."""
        return self._call("GET", f"{SCHEDULES}/{_path(MonitoringScheduleName)}/report")

    # --- monitoring schedules ------------------------------------------------------------------------
    def create_monitoring_schedule(self, **params: Any) -> Doc:
        return self._call("POST", SCHEDULES, params)

    def describe_monitoring_schedule(self, MonitoringScheduleName: str) -> Doc:
        return self._call("GET", f"{SCHEDULES}/{_path(MonitoringScheduleName)}")

    def list_monitoring_schedules(self, **params: Any) -> Doc:
        return self._call("GET", SCHEDULES, query=params)

    def update_monitoring_schedule(self, MonitoringScheduleName: str, MonitoringScheduleConfig: Doc) -> Doc:
        return self._call("POST", f"{SCHEDULES}/{_path(MonitoringScheduleName)}",
                          {"MonitoringScheduleConfig": MonitoringScheduleConfig})

    def start_monitoring_schedule(self, MonitoringScheduleName: str) -> Doc:
        return self._call("POST", f"{SCHEDULES}/{_path(MonitoringScheduleName)}/start")

    def stop_monitoring_schedule(self, MonitoringScheduleName: str) -> Doc:
        return self._call("POST", f"{SCHEDULES}/{_path(MonitoringScheduleName)}/stop")

    def delete_monitoring_schedule(self, MonitoringScheduleName: str) -> Doc:
        return self._call("DELETE", f"{SCHEDULES}/{_path(MonitoringScheduleName)}")

    def list_monitoring_executions(self, **params: Any) -> Doc:
        """ListMonitoringExecutions: MonitoringScheduleName, EndpointName, StatusEquals, SortBy, ..."""
        return self._call("GET", "/api/monitoring/executions", query=params)

    # --- job definitions -----------------------------------------------------------------------------
    def create_data_quality_job_definition(self, **params: Any) -> Doc:
        return self._call("POST", DATA_QUALITY, params)

    def describe_data_quality_job_definition(self, JobDefinitionName: str) -> Doc:
        return self._call("GET", f"{DATA_QUALITY}/{_path(JobDefinitionName)}")

    def list_data_quality_job_definitions(self, **params: Any) -> Doc:
        return self._call("GET", DATA_QUALITY, query=params)

    def delete_data_quality_job_definition(self, JobDefinitionName: str) -> Doc:
        return self._call("DELETE", f"{DATA_QUALITY}/{_path(JobDefinitionName)}")

    def create_model_quality_job_definition(self, **params: Any) -> Doc:
        return self._call("POST", MODEL_QUALITY, params)

    def describe_model_quality_job_definition(self, JobDefinitionName: str) -> Doc:
        return self._call("GET", f"{MODEL_QUALITY}/{_path(JobDefinitionName)}")

    def list_model_quality_job_definitions(self, **params: Any) -> Doc:
        return self._call("GET", MODEL_QUALITY, query=params)

    def delete_model_quality_job_definition(self, JobDefinitionName: str) -> Doc:
        return self._call("DELETE", f"{MODEL_QUALITY}/{_path(JobDefinitionName)}")
