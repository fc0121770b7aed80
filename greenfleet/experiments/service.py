"""InferenceExperiment operations (SageMaker's shadow tests): the API records desired state only (the
experiment's members, a start or stop request); the experiment controller (``driver.py``) converges the
endpoint to it. Statuses and transitions are in ``machine.py``."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import ConflictError, ResourceInUse, ResourceNotFound, ValidationError
from greenfleet.experiments.machine import FINISHED, ExperimentState
from greenfleet.experiments.pair_store import PairFlush, PairStore
from greenfleet.experiments.pairs import PairCollector
from greenfleet.experiments.report import comparison_report
from greenfleet.experiments.repository import ExperimentRepository
from greenfleet.experiments.spec import check_create, check_stop, check_update, describe, schedule_of, summary
from greenfleet.resources.servicemodel import validate_input
from greenfleet.rollout import parse_deployment_config
from greenfleet.services.endpoints import EndpointService
from greenfleet.services.listing import page

Doc = dict[str, Any]
DAY_S = 86400.0
SORT_EXPERIMENTS = {
    "Name": lambda i: i["Name"],
    "CreationTime": lambda i: i["CreationTime"],
    "Status": lambda i: i["Status"],
}
MUTABLE_AFTER_START = {"Name", "Description", "Schedule", "ShadowModeConfig"}


class ExperimentService:
    def __init__(self, repo: ExperimentRepository, endpoints: EndpointService, clock: Clock, region: str,
                 account_id: str, strict_minimums: bool = True) -> None:
        self.repo, self.endpoints, self.clock, self.tags = repo, endpoints, clock, endpoints.tags
        self.region, self.account_id, self.strict_minimums = region, account_id, strict_minimums
        self.pairs = PairCollector()
        """Production and shadow answers paired by inference id (the router's mirror feeds it)."""
        self.pair_flush = PairFlush(self.pairs, PairStore(repo.engine))
        """Moves complete pairs into the store (a step of the control pass; the report runs it first)."""
        self.changed: Callable[[], None] = lambda: None
        """Called after desired state was recorded (the server wakes the control pass with it)."""
        self.tags.owners.append(repo.arn_exists)  # AddTags/ListTags/DeleteTags on an experiment's ARN

    def arn(self, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:inference-experiment/{name.lower()}"

    def _row(self, name: str) -> Doc:
        row = self.repo.get(name)
        if row is None:
            raise ResourceNotFound(f"Inference experiment {self.arn(name)} does not exist.")
        return row

    # --- operations ---------------------------------------------------------------------------------
    def create_inference_experiment(self, params: Doc) -> Doc:
        extra = params.get("DeploymentConfig")  # greenfleet's extension: how a Promote deploys
        validate_input("sagemaker", "CreateInferenceExperiment",
                       {k: v for k, v in params.items() if k != "DeploymentConfig"})
        if extra is not None:
            parse_deployment_config(extra, strict_minimums=self.strict_minimums)
        if params.get("KmsKey"):
            raise ValidationError("KmsKey: greenfleet's instances have no storage volumes to encrypt with a KMS key; "
                                  "leave it out (DataStorageConfig.KmsKey encrypts captured data in S3)")
        now = self.clock.now()
        endpoint = self.endpoints.endpoint(params["EndpointName"])
        spec = check_create(params, endpoint, now)
        for other in self.repo.active():
            if other["endpoint_name"] == endpoint["name"]:
                raise ResourceInUse(f"Endpoint {endpoint['name']} already has inference experiment "
                                    f"{other['name']} ({other['status']}); stop it first")
        if endpoint["state"].shadows:
            raise ResourceInUse(f"Endpoint {endpoint['name']} already runs a shadow variant "
                                f"({endpoint['state'].shadows[0].variants[0].name}); it can have one")
        arn = self.arn(params["Name"])
        self.repo.insert({"name": params["Name"], "arn": arn, "endpoint_name": endpoint["name"],
                          "status": "Creating", "created_at": now, "modified_at": now, "spec": spec,
                          "state": ExperimentState().model_dump(mode="json")})
        self.tags.put(arn, params.get("Tags") or [])
        self.changed()
        return {"InferenceExperimentArn": arn}

    def describe_inference_experiment(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DescribeInferenceExperiment", params)
        row = self._row(params["Name"])
        endpoint = self.endpoints.repo.get_endpoint(row["endpoint_name"])
        return describe(row, ExperimentState.model_validate(row["state"]), endpoint)

    def list_inference_experiments(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListInferenceExperiments", params)
        items = [summary(r, ExperimentState.model_validate(r["state"])) for r in self.repo.all()]
        status, kind = params.get("StatusEquals"), params.get("Type")
        chunk, token = page(items, params, "Name", SORT_EXPERIMENTS, extra_filter=lambda i: (
            (status is None or i["Status"] == status) and (kind is None or i["Type"] == kind)))
        result: Doc = {"InferenceExperiments": chunk}
        if token:
            result["NextToken"] = token
        return result

    def update_inference_experiment(self, params: Doc) -> Doc:
        validate_input("sagemaker", "UpdateInferenceExperiment", params)
        row = self._row(params["Name"])
        if row["status"] in FINISHED:
            raise ConflictError(f"Inference experiment {params['Name']} is {row['status']}; it cannot be updated")
        started = row["status"] not in ("Creating", "Created")
        if started:
            refused = sorted(set(params) - MUTABLE_AFTER_START)
            if refused:
                raise ConflictError(f"Inference experiment {params['Name']} is {row['status']}: only Description, "
                                    f"the shadow's SamplingPercentage and Schedule.EndTime may change (not "
                                    f"{', '.join(refused)})")
        endpoint = self.endpoints.endpoint(row["endpoint_name"])
        spec = check_update(copy.deepcopy(row["spec"]), params, endpoint, started, self.clock.now())
        saved = self.repo.save(row["name"], row["revision"], {"spec": spec, "modified_at": self.clock.now()})
        self.changed()
        return {"InferenceExperimentArn": saved["arn"]}

    def start_inference_experiment(self, params: Doc) -> Doc:
        validate_input("sagemaker", "StartInferenceExperiment", params)
        row = self._row(params["Name"])
        if row["status"] not in ("Creating", "Created"):
            raise ConflictError(f"Inference experiment {params['Name']} is {row['status']}; only a Created "
                                "experiment can be started")
        now = self.clock.now()
        spec = copy.deepcopy(row["spec"])
        _start, end = schedule_of(spec)
        spec["Schedule"] = {"StartTime": now, "EndTime": min(end, now + 30 * DAY_S)}
        spec["_start_requested"] = True
        saved = self.repo.save(row["name"], row["revision"], {"spec": spec, "modified_at": now})
        self.changed()
        return {"InferenceExperimentArn": saved["arn"]}

    def stop_inference_experiment(self, params: Doc) -> Doc:
        validate_input("sagemaker", "StopInferenceExperiment", params)
        row = self._row(params["Name"])
        if row["status"] in FINISHED or row["spec"].get("_stop"):
            raise ConflictError(f"Inference experiment {params['Name']} is {row['status']}"
                                + (" and already stopping" if row["spec"].get("_stop") else ""))
        spec = copy.deepcopy(row["spec"])
        spec["_stop"] = check_stop(spec, params)
        saved = self.repo.save(row["name"], row["revision"], {"spec": spec, "modified_at": self.clock.now()})
        self.changed()
        return {"InferenceExperimentArn": saved["arn"]}

    def delete_inference_experiment(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteInferenceExperiment", params)
        row = self._row(params["Name"])
        if row["status"] not in FINISHED and row["status"] not in ("Creating", "Created"):
            raise ConflictError(f"Inference experiment {params['Name']} is {row['status']}; stop it before "
                                "deleting it")
        if row["status"] in ("Creating", "Created") and row["spec"].get("_start_requested"):
            raise ConflictError(f"Inference experiment {params['Name']} is starting; stop it before deleting it")
        self.repo.delete(row["name"])
        self.tags.delete_all(row["arn"])
        return {"InferenceExperimentArn": row["arn"]}

    def report(self, name: str) -> Doc:
        """The paired comparison of production and shadow since the experiment started running."""
        row = self._row(name)
        state = ExperimentState.model_validate(row["state"])
        config = row["spec"]["ShadowModeConfig"]
        shadow = config["ShadowModelVariants"][0]["ShadowModelVariantName"]
        since = state.started_at if state.started_at is not None else row["created_at"]
        until = state.completion_time if state.completion_time is not None else float("inf")
        self.pair_flush.flush()  # every pair this report counts is in the store: a restart keeps it
        pairs = self.pair_flush.store.pairs(row["endpoint_name"], shadow, since, until)
        return comparison_report(row["name"], row["endpoint_name"], config["SourceModelVariantName"], shadow, pairs)
