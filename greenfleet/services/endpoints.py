"""Endpoints: the API records desired state; the reconciler (control/) converges to it.

An endpoint row's ``state`` document holds one entry per production variant::

    {"VariantName", "ModelName", "Container" (snapshot of the model's container),
     "DesiredWeight", "CurrentWeight", "DesiredInstanceCount", "CurrentInstanceCount",
     "RoutingStrategy", "StartupTimeoutS", "InstanceType", "Serverless"}

plus ``shadow_variants``, ``data_capture``, ``deployment`` (a rollout in progress, if any),
``last_deployment_config`` and ``variant_status`` (SageMaker's VariantStatus entries).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import ConflictError, ResourceInUse, ValidationError
from greenfleet.resources.names import ArnFactory
from greenfleet.resources.servicemodel import validate_input
from greenfleet.rollout.policy import parse_deployment_config
from greenfleet.services.listing import page
from greenfleet.services.models import ModelService
from greenfleet.services.tags import TagService
from greenfleet.store.repository import Repository, StaleWrite

Doc = dict[str, Any]
STABLE = {"InService", "Failed"}
MUTATE_ATTEMPTS = 20
SORT_ENDPOINTS = {
    "Name": lambda i: i["EndpointName"],
    "CreationTime": lambda i: i["CreationTime"],
    "Status": lambda i: i["EndpointStatus"],
}


def variant_state(variant: Doc, container: Doc) -> Doc:
    serverless = bool(variant.get("ServerlessConfig"))
    count = 1 if serverless else int(variant["InitialInstanceCount"])
    return {
        "VariantName": variant["VariantName"],
        "ModelName": variant["ModelName"],
        "Container": container,
        "DesiredWeight": float(variant["InitialVariantWeight"]),
        "CurrentWeight": 0.0,
        "DesiredInstanceCount": count,
        "CurrentInstanceCount": 0,
        "RoutingStrategy": variant["RoutingConfig"]["RoutingStrategy"],
        "StartupTimeoutS": variant.get("ContainerStartupHealthCheckTimeoutInSeconds"),
        "InstanceType": variant.get("InstanceType"),
        "Serverless": serverless,
    }


class EndpointService:
    def __init__(
        self, repo: Repository, arns: ArnFactory, clock: Clock, models: ModelService, tags: TagService
    ) -> None:
        self.repo, self.arns, self.clock, self.models, self.tags = repo, arns, clock, models, tags
        self.strict_minimums = True
        self.changed: Callable[[], None] = lambda: None
        """Called after desired state was recorded (the server wakes the reconciler with it)."""
        self.capture_failure: Callable[[str], str | None] = lambda destination: None
        """Why writing captured data to a destination fails right now, if it does (the capture writer)."""

    def build_state(self, config_name: str) -> Doc:
        """The state document for serving ``config_name``: variants with their model snapshots."""
        spec = self.models.endpoint_config(config_name)["spec"]
        variants = [variant_state(v, self.models.model_container(v["ModelName"]))
                    for v in spec["ProductionVariants"]]
        shadows = [variant_state(v, self.models.model_container(v["ModelName"]))
                   for v in spec.get("ShadowProductionVariants", [])]
        return {"variants": variants, "shadow_variants": shadows, "data_capture": spec.get("DataCaptureConfig"),
                "deployment": None, "last_deployment_config": None}

    def create_endpoint(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateEndpoint", {k: v for k, v in params.items() if k != "DeploymentConfig"})
        if params.get("DeploymentConfig") is not None:
            parse_deployment_config(params["DeploymentConfig"], strict_minimums=self.strict_minimums)
        name, config_name = params["EndpointName"], params["EndpointConfigName"]
        state = self.build_state(config_name)
        if params.get("DeploymentConfig"):
            state["last_deployment_config"] = params["DeploymentConfig"]
        arn = self.arns.arn("endpoint", name)
        now = self.clock.now()
        self.repo.insert_endpoint({
            "name": name, "arn": arn, "config_name": config_name, "status": "Creating",
            "failure_reason": None, "created_at": now, "modified_at": now, "state": state,
        })
        self.tags.put(arn, params.get("Tags", []))
        self.changed()
        return {"EndpointArn": arn}

    def endpoint(self, name: str) -> Doc:
        row = self.repo.get_endpoint(name)
        if row is None:
            raise ValidationError(f'Could not find endpoint "{self.arns.arn("endpoint", name)}".')
        return row

    def describe_endpoint(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DescribeEndpoint", params)
        result = describe(self.endpoint(params["EndpointName"]))
        capture = result.get("DataCaptureConfig")
        failure = self.capture_failure(capture["DestinationS3Uri"]) if capture and capture["EnableCapture"] else None
        if failure and "FailureReason" not in result:
            result["FailureReason"] = (f"Data capture is failing: {failure}. Invocations are served; their "
                                       "captured records are dropped.")
        return result

    def list_endpoints(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListEndpoints", params)
        items = [
            {"EndpointName": r["name"], "EndpointArn": r["arn"], "CreationTime": r["created_at"],
             "LastModifiedTime": r["modified_at"], "EndpointStatus": r["status"]}
            for r in self.repo.list_endpoints()
        ]
        status = params.get("StatusEquals")
        chunk, token = page(items, params, "EndpointName", SORT_ENDPOINTS,
                            extra_filter=(lambda i: i["EndpointStatus"] == status) if status else None)
        result: Doc = {"Endpoints": chunk}
        if token:
            result["NextToken"] = token
        return result

    def delete_endpoint(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteEndpoint", params)
        row = self.endpoint(params["EndpointName"])
        if row["status"] != "Deleting":
            self.repo.update_endpoint(row["name"], row["revision"],
                                      {"status": "Deleting", "modified_at": self.clock.now()})
            self.tags.delete_all(row["arn"])
            self.changed()
        return {}

    def update_weights_and_capacities(self, params: Doc) -> Doc:
        validate_input("sagemaker", "UpdateEndpointWeightsAndCapacities", params)
        row = self.mutate(params["EndpointName"], lambda current: self._reweigh(current, params))
        self.changed()
        return {"EndpointArn": row["arn"]}

    def _reweigh(self, row: Doc, params: Doc) -> Doc:
        if row["status"] != "InService":
            raise ValidationError(
                f'Cannot update in-progress endpoint "{row["arn"]}": its status is {row["status"]}.')
        state = copy.deepcopy(row["state"])
        by_name = {v["VariantName"]: v for v in state["variants"]}
        for index, wanted in enumerate(params["DesiredWeightsAndCapacities"], start=1):
            where = f"DesiredWeightsAndCapacities.{index}"
            variant = by_name.get(wanted["VariantName"])
            if variant is None:
                raise ValidationError(f"{where}.VariantName: the endpoint has no variant '{wanted['VariantName']}'")
            if wanted.get("DesiredWeight") is None and wanted.get("DesiredInstanceCount") is None:
                raise ValidationError(f"{where}: give DesiredWeight or DesiredInstanceCount")
            if wanted.get("DesiredWeight") is not None:
                variant["DesiredWeight"] = float(wanted["DesiredWeight"])
            if wanted.get("DesiredInstanceCount") is not None:
                if variant["Serverless"]:
                    raise ValidationError(f"{where}.DesiredInstanceCount: a serverless variant has no instances")
                variant["DesiredInstanceCount"] = int(wanted["DesiredInstanceCount"])
        if all(v["DesiredWeight"] == 0 for v in state["variants"]):
            raise ValidationError("DesiredWeightsAndCapacities: at least one variant must keep a weight above 0")
        return {"state": state, "status": "Updating", "modified_at": self.clock.now()}

    def list_instances(self, name: str) -> Doc:
        """greenfleet's own view of an endpoint's instance processes (not a SageMaker operation)."""
        self.endpoint(name)
        instances = [
            {"InstanceId": r["id"], "Group": r["group_key"].split("/", 1)[1], "Pid": r["pid"], "Port": r["port"],
             "StartedAt": r["started_at"], "ReadyAt": r["ready_at"]}
            for r in self.repo.list_instances() if r["endpoint_name"] == name
        ]
        return {"Instances": sorted(instances, key=lambda i: i["InstanceId"])}

    def mutate(self, name: str, change: Callable[[Doc], Doc]) -> Doc:
        """Read the endpoint, compute ``change(row)`` (the columns to write) and write it if nobody wrote
        in between; controllers write endpoint rows several times a second, so retry a few times."""
        for _ in range(MUTATE_ATTEMPTS):
            row = self.endpoint(name)
            try:
                return self.repo.update_endpoint(name, row["revision"], change(row))
            except StaleWrite:
                continue
        raise ConflictError(f'Endpoint "{name}" is being changed continuously; retry')

    def require_stable(self, row: Doc) -> None:
        if row["status"] not in STABLE:
            raise ResourceInUse(f'Endpoint "{row["name"]}" is {row["status"]}; wait until it is InService.')


def describe(row: Doc) -> Doc:
    """DescribeEndpoint's answer for a stored endpoint row."""
    state = row["state"]
    result: Doc = {
        "EndpointName": row["name"],
        "EndpointArn": row["arn"],
        "EndpointConfigName": row["config_name"],
        "ProductionVariants": [_summary(v, state) for v in state["variants"]],
        "EndpointStatus": row["status"],
        "CreationTime": row["created_at"],
        "LastModifiedTime": row["modified_at"],
    }
    if state.get("shadow_variants"):
        result["ShadowProductionVariants"] = [_summary(v, state) for v in state["shadow_variants"]]
    if row["failure_reason"]:
        result["FailureReason"] = row["failure_reason"]
    capture = state.get("data_capture")
    if capture:
        result["DataCaptureConfig"] = {
            "EnableCapture": bool(capture.get("EnableCapture", True)),
            "CaptureStatus": "Started" if capture.get("EnableCapture", True) else "Stopped",
            "CurrentSamplingPercentage": capture["InitialSamplingPercentage"],
            "DestinationS3Uri": capture["DestinationS3Uri"],
            **({"KmsKeyId": capture["KmsKeyId"]} if capture.get("KmsKeyId") else {}),
        }
    if state.get("last_deployment_config"):
        result["LastDeploymentConfig"] = state["last_deployment_config"]
    view = state.get("deployment_view")
    if view and (state.get("deployment") or row["status"] == "UpdateRollbackFailed"):
        _merge_view(result, view, state)
    return result


def _merge_view(result: Doc, view: Doc, state: Doc) -> None:
    """While a deployment runs, weights, counts and VariantStatus come from the rollout's view."""
    ours = {v["VariantName"]: v for v in result["ProductionVariants"]}
    result["ProductionVariants"] = [{**ours.get(v["VariantName"], {}), **v} for v in view["ProductionVariants"]]
    pending = view.get("PendingDeploymentSummary")
    if pending:
        images = {v["VariantName"]: _summary(v, {}) for v in (state.get("pending") or {}).get("variants", [])}
        pending = {**pending, "ProductionVariants": [
            {**{k: images.get(v["VariantName"], {}).get(k) for k in ("DeployedImages", "RoutingConfig")
                if images.get(v["VariantName"])}, **v}
            for v in pending.get("ProductionVariants", [])]}
        result["PendingDeploymentSummary"] = pending
    if view.get("FailureReason"):
        result["FailureReason"] = view["FailureReason"]


def _summary(variant: Doc, state: Doc) -> Doc:
    summary: Doc = {
        "VariantName": variant["VariantName"],
        "DeployedImages": [{"SpecifiedImage": variant["Container"]["Image"],
                            "ResolvedImage": variant["Container"]["Image"]}],
        "CurrentWeight": variant["CurrentWeight"],
        "DesiredWeight": variant["DesiredWeight"],
        "CurrentInstanceCount": variant["CurrentInstanceCount"],
        "DesiredInstanceCount": variant["DesiredInstanceCount"],
        "RoutingConfig": {"RoutingStrategy": variant["RoutingStrategy"]},
    }
    statuses = (state.get("variant_status") or {}).get(variant["VariantName"])
    if statuses:
        summary["VariantStatus"] = statuses
    return summary
