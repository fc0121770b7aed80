"""Create/Describe/List/DeleteDataQualityJobDefinition: a data-quality job stored by name, which schedules
reference through MonitoringJobDefinitionName (the monitoring type must then be DataQuality)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import ResourceInUse, ResourceNotFound
from greenfleet.monitoring.jobs import check_job, inline_job
from greenfleet.monitoring.repository import MonitoringRepository
from greenfleet.resources.servicemodel import validate_input
from greenfleet.services.listing import page
from greenfleet.services.tags import TagService

Doc = dict[str, Any]
SORT = {"Name": lambda i: i["MonitoringJobDefinitionName"], "CreationTime": lambda i: i["CreationTime"]}


class JobDefinitionService:
    def __init__(self, repo: MonitoringRepository, clock: Clock, tags: TagService,
                 arn: Callable[[str, str], str]) -> None:
        self.repo, self.clock, self.tags, self.arn = repo, clock, tags, arn

    def create_data_quality_job_definition(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateDataQualityJobDefinition", params)
        name = params["JobDefinitionName"]
        job = inline_job(params)
        endpoint = check_job(job)
        arn = self.arn("data-quality-job-definition", name)
        stored = {k: copy.deepcopy(v) for k, v in params.items() if k not in ("JobDefinitionName", "Tags")}
        if not self.repo.insert_job_definition({"name": name, "monitoring_type": "DataQuality", "arn": arn,
                                                "endpoint_name": endpoint, "params": stored, "job": job,
                                                "created_at": self.clock.now()}):
            raise ResourceInUse(f"Job definition {arn} already exists")
        self.tags.put(arn, params.get("Tags", []))
        return {"JobDefinitionArn": arn}

    def _definition(self, name: str) -> Doc:
        row = self.repo.job_definition(name)
        if row is None or row["monitoring_type"] != "DataQuality":
            raise ResourceNotFound(f"Job definition {self.arn('data-quality-job-definition', name)} does not exist")
        return row

    def describe_data_quality_job_definition(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DescribeDataQualityJobDefinition", params)
        row = self._definition(params["JobDefinitionName"])
        return {"JobDefinitionArn": row["arn"], "JobDefinitionName": row["name"], "CreationTime": row["created_at"],
                **row["params"]}

    def list_data_quality_job_definitions(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListDataQualityJobDefinitions", params)
        items = [{"MonitoringJobDefinitionName": r["name"], "MonitoringJobDefinitionArn": r["arn"],
                  "CreationTime": r["created_at"], "EndpointName": r["endpoint_name"]}
                 for r in self.repo.job_definitions("DataQuality")]
        endpoint = params.get("EndpointName")
        chunk, token = page(items, params, "MonitoringJobDefinitionName", SORT,
                            extra_filter=(lambda i: i["EndpointName"] == endpoint) if endpoint else None)
        return {"JobDefinitionSummaries": chunk, **({"NextToken": token} if token else {})}

    def delete_data_quality_job_definition(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteDataQualityJobDefinition", params)
        row = self._definition(params["JobDefinitionName"])
        users = [s["name"] for s in self.repo.schedules()
                 if s["config"].get("MonitoringJobDefinitionName") == row["name"]]
        if users:
            raise ResourceInUse(f"Job definition {row['name']} is used by monitoring schedule(s) {', '.join(users)}")
        self.repo.delete_job_definition(row["name"])
        self.tags.delete_all(row["arn"])
        return {}

