"""Create/Describe/List/Delete{DataQuality,ModelQuality}JobDefinition: a monitoring job stored by name,
which schedules reference through MonitoringJobDefinitionName (with the same MonitoringType)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import ResourceInUse, ResourceNotFound
from greenfleet.monitoring.jobs import check_job, inline_job, quality_job
from greenfleet.monitoring.repository import MonitoringRepository
from greenfleet.resources.servicemodel import validate_input
from greenfleet.services.listing import page
from greenfleet.services.tags import TagService

Doc = dict[str, Any]
SORT = {"Name": lambda i: i["MonitoringJobDefinitionName"], "CreationTime": lambda i: i["CreationTime"]}
ARN_KIND = {"DataQuality": "data-quality-job-definition", "ModelQuality": "model-quality-job-definition"}


class JobDefinitionService:
    def __init__(self, repo: MonitoringRepository, clock: Clock, tags: TagService,
                 arn: Callable[[str, str], str]) -> None:
        self.repo, self.clock, self.tags, self.arn = repo, clock, tags, arn

    def _create(self, kind: str, params: Doc, job: Doc, endpoint: str) -> Doc:
        name = params["JobDefinitionName"]
        arn = self.arn(ARN_KIND[kind], name)
        stored = {k: copy.deepcopy(v) for k, v in params.items() if k not in ("JobDefinitionName", "Tags")}
        if not self.repo.insert_job_definition({"name": name, "monitoring_type": kind, "arn": arn,
                                                "endpoint_name": endpoint, "params": stored, "job": job,
                                                "created_at": self.clock.now()}):
            raise ResourceInUse(f"Job definition {arn} already exists")
        self.tags.put(arn, params.get("Tags", []))
        return {"JobDefinitionArn": arn}

    def _definition(self, kind: str, name: str) -> Doc:
        row = self.repo.job_definition(name)
        if row is None or row["monitoring_type"] != kind:
            raise ResourceNotFound(f"Job definition {self.arn(ARN_KIND[kind], name)} does not exist")
        return row

    def _describe(self, kind: str, params: Doc) -> Doc:
        validate_input("sagemaker", f"Describe{kind}JobDefinition", params)
        row = self._definition(kind, params["JobDefinitionName"])
        return {"JobDefinitionArn": row["arn"], "JobDefinitionName": row["name"], "CreationTime": row["created_at"],
                **row["params"]}

    def _list(self, kind: str, params: Doc) -> Doc:
        validate_input("sagemaker", f"List{kind}JobDefinitions", params)
        items = [{"MonitoringJobDefinitionName": r["name"], "MonitoringJobDefinitionArn": r["arn"],
                  "CreationTime": r["created_at"], "EndpointName": r["endpoint_name"]}
                 for r in self.repo.job_definitions(kind)]
        endpoint = params.get("EndpointName")
        chunk, token = page(items, params, "MonitoringJobDefinitionName", SORT,
                            extra_filter=(lambda i: i["EndpointName"] == endpoint) if endpoint else None)
        return {"JobDefinitionSummaries": chunk, **({"NextToken": token} if token else {})}

    def _delete(self, kind: str, params: Doc) -> Doc:
        validate_input("sagemaker", f"Delete{kind}JobDefinition", params)
        row = self._definition(kind, params["JobDefinitionName"])
        users = [s["name"] for s in self.repo.schedules()
                 if s["config"].get("MonitoringJobDefinitionName") == row["name"]]
        if users:
            raise ResourceInUse(f"Job definition {row['name']} is used by monitoring schedule(s) {', '.join(users)}")
        self.repo.delete_job_definition(row["name"])
        self.tags.delete_all(row["arn"])
        return {}

    # --- DataQuality ------------------------------------------------------------------------------------
    def create_data_quality_job_definition(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateDataQualityJobDefinition", params)
        job = inline_job(params)
        return self._create("DataQuality", params, job, check_job(job))

    def describe_data_quality_job_definition(self, params: Doc) -> Doc:
        return self._describe("DataQuality", params)

    def list_data_quality_job_definitions(self, params: Doc) -> Doc:
        return self._list("DataQuality", params)

    def delete_data_quality_job_definition(self, params: Doc) -> Doc:
        return self._delete("DataQuality", params)

    # --- ModelQuality -----------------------------------------------------------------------------------
    def create_model_quality_job_definition(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateModelQualityJobDefinition", params)
        job, endpoint = quality_job(params)
        return self._create("ModelQuality", params, job, endpoint)

    def describe_model_quality_job_definition(self, params: Doc) -> Doc:
        return self._describe("ModelQuality", params)

    def list_model_quality_job_definitions(self, params: Doc) -> Doc:
        return self._list("ModelQuality", params)

    def delete_model_quality_job_definition(self, params: Doc) -> Doc:
        return self._delete("ModelQuality", params)
