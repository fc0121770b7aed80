"""Endpoints: the API records desired state; the reconciler (control/) converges to it.

The endpoint row holds the desired state (greenfleet/resources/endpoint_state.py: fleets of variants
with their container snapshots, counts and weights, the deployment in progress); the figures the
control pass observed (current counts and weights, VariantStatus, a deployment's view) come from the
observation row, which only the pass writes, so an API write never races the reconciler's refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from greenfleet.asyncinference.config import stored_async_config
from greenfleet.clock import Clock
from greenfleet.errors import ConflictError, ResourceInUse, ValidationError
from greenfleet.resources.endpoint_state import (
    ContainerSnapshot,
    DataCapture,
    DesiredState,
    Fleet,
    ObservedState,
    PipelineSnapshot,
    ServerlessSpec,
    VariantDesired,
    production_fleet,
)
from greenfleet.resources.names import ArnFactory
from greenfleet.resources.pipeline import is_pipeline
from greenfleet.resources.servicemodel import validate_input
from greenfleet.rollout.policy import parse_deployment_config
from greenfleet.services.capacity import InstanceLimits, endpoint_instances, fleet_counts
from greenfleet.services.listing import page
from greenfleet.services.models import ModelService
from greenfleet.services.tags import TagService
from greenfleet.store.repository import Repository, StaleWrite

Doc = dict[str, Any]
STABLE = {"InService", "Failed"}
MUTATE_ATTEMPTS = 5
"""Endpoint rows are written by the API, the deployment driver while a deployment runs, and the reconciler
only when a status changes (observed figures go to their own row), so a lost compare-and-set is rare."""
SORT_ENDPOINTS = {
    "Name": lambda i: i["EndpointName"],
    "CreationTime": lambda i: i["CreationTime"],
    "Status": lambda i: i["EndpointStatus"],
}


def variant_desired(variant: Doc, container: Doc) -> VariantDesired:
    """``container`` is what ``ModelService.model_container`` gives: a definition or a pipeline's document."""
    pipeline = PipelineSnapshot.model_validate(container) if is_pipeline(container) else None
    config = variant.get("ServerlessConfig")
    serverless = None if not config else ServerlessSpec(
        memory_mb=int(config["MemorySizeInMB"]), max_concurrency=int(config["MaxConcurrency"]),
        provisioned=int(config.get("ProvisionedConcurrency") or 0))
    count = serverless.provisioned if serverless is not None else int(variant["InitialInstanceCount"])
    return VariantDesired(
        name=variant["VariantName"], model_name=variant["ModelName"],
        container=pipeline.Containers[0] if pipeline else ContainerSnapshot.model_validate(container),
        pipeline=pipeline,
        desired_count=count, desired_weight=float(variant["InitialVariantWeight"]),
        routing_strategy=variant["RoutingConfig"]["RoutingStrategy"],
        startup_timeout_s=variant.get("ContainerStartupHealthCheckTimeoutInSeconds"),
        instance_type=variant.get("InstanceType"), serverless=serverless)


def capture_failure_reason(own: str | None, remote: Sequence[tuple[str, str]]) -> str | None:
    """DescribeEndpoint's FailureReason for an endpoint whose capture destination refuses writes: this server's
    capture writer's reason (``own``) and each other router's, named ((router id, reason), from their reports);
    None when no router's last write there failed."""
    parts = ([own] if own else []) + [f"capture on router {router_id}: {reason}" for router_id, reason in remote]
    if not parts:
        return None
    return f"Data capture is failing: {'; '.join(parts)}. Invocations are served; their captured records are dropped."


class EndpointService:
    def __init__(
        self, repo: Repository, arns: ArnFactory, clock: Clock, models: ModelService, tags: TagService
    ) -> None:
        self.repo, self.arns, self.clock, self.models, self.tags = repo, arns, clock, models, tags
        self.strict_minimums = True
        self.limits: InstanceLimits | None = None
        """Instance ceilings checked before desired counts are recorded (the server sets them)."""
        self.changed: Callable[[], None] = lambda: None
        """Called after desired state was recorded (the server wakes the reconciler with it)."""
        self.capture_failure: Callable[[str], str | None] = lambda destination: None
        """Why writing captured data to a destination fails right now, if it does (this server's capture writer)."""
        self.remote_capture_failures: Callable[[str], Sequence[tuple[str, str]]] = lambda destination: ()
        """(router id, reason) for each other router (a ``greenfleet router`` process, another server's) whose
        capture writer reports its last write to a destination failed (their reports in the store)."""

    def build_fleets(self, fleet_id: int, config_name: str) -> list[Fleet]:
        """The production fleet serving ``config_name`` (id ``fleet_id``) and, if the config declares one, its
        shadow fleet (id ``fleet_id + 1``), which mirrors the production variant's requests at the share its
        weight gives (``shadow_sampling``: 100 % with SageMaker's default weights of 1)."""
        spec = self.models.endpoint_config(config_name)["spec"]
        variants = [variant_desired(v, self.models.model_container(v["ModelName"]))
                    for v in spec["ProductionVariants"]]
        capture = spec.get("DataCaptureConfig")
        fleets = [production_fleet(fleet_id, config_name, variants,
                                   data_capture=DataCapture.model_validate(capture) if capture else None)]
        fleets[0].asynchronous = stored_async_config(spec.get("AsyncInferenceConfig"))
        shadows = [variant_desired(v, self.models.model_container(v["ModelName"]))
                   for v in spec.get("ShadowProductionVariants") or []]
        if shadows:
            fleets.append(Fleet(id=fleet_id + 1, config_name=config_name, role="shadow",
                                traffic=shadow_sampling(shadows[0], variants[0]), variants=shadows,
                                source_variant=variants[0].name))
        return fleets

    def create_endpoint(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateEndpoint", {k: v for k, v in params.items() if k != "DeploymentConfig"})
        if params.get("DeploymentConfig") is not None:
            parse_deployment_config(params["DeploymentConfig"], strict_minimums=self.strict_minimums)
        name, config_name = params["EndpointName"], params["EndpointConfigName"]
        state = DesiredState(fleets=self.build_fleets(1, config_name), current_fleet_id=1,
                             last_deployment_config=params.get("DeploymentConfig") or None)
        self.check_capacity(state, None, "CreateEndpoint")
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
        row = self.endpoint(params["EndpointName"])
        result = describe(row, self.repo.get_observation(row["name"]))
        capture = result.get("DataCaptureConfig")
        if capture and capture["EnableCapture"] and "FailureReason" not in result:
            destination = capture["DestinationS3Uri"]
            failure = capture_failure_reason(self.capture_failure(destination),
                                             self.remote_capture_failures(destination))
            if failure:
                result["FailureReason"] = failure
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
        seen: set[str] = set()
        for wanted in params["DesiredWeightsAndCapacities"]:
            if wanted["VariantName"] in seen:
                raise ValidationError(f'The variant name "{wanted["VariantName"]}" was non-unique within the '
                                      "request.")
            seen.add(wanted["VariantName"])
        row = self.mutate(params["EndpointName"], lambda current: self._reweigh(current, params))
        self.changed()
        return {"EndpointArn": row["arn"]}

    def _reweigh(self, row: Doc, params: Doc) -> Doc:
        if row["status"] != "InService":
            raise ValidationError(
                f'Cannot update in-progress endpoint "{row["arn"]}": its status is {row["status"]}.')
        state: DesiredState = row["state"].copy_deep()
        current = state.current
        for index, wanted in enumerate(params["DesiredWeightsAndCapacities"], start=1):
            where = f"DesiredWeightsAndCapacities.{index}"
            name = wanted["VariantName"]
            variant = current.variant(name)
            shadow = next((f for f in state.shadows if f.variant(name) is not None), None)
            if variant is None and shadow is not None:
                if shadow.experiment is not None:
                    raise ValidationError(
                        f'The variant "{name}" is the shadow variant of inference experiment "{shadow.experiment}": '
                        "change its sampling with UpdateInferenceExperiment (ShadowModeConfig.SamplingPercentage); "
                        "its instances are the experiment's ModelVariants.")
                variant = shadow.variant(name)
            if variant is None:
                raise ValidationError(f'The variant name(s) "{name}" is/are not present within endpoint '
                                      f'configuration "{row["config_name"]}".')
            if wanted.get("DesiredWeight") is None and wanted.get("DesiredInstanceCount") is None:
                raise ValidationError(f"{where}: give DesiredWeight or DesiredInstanceCount")
            if wanted.get("DesiredWeight") is not None:
                variant.desired_weight = float(wanted["DesiredWeight"])
            if wanted.get("DesiredInstanceCount") is not None and variant.serverless is not None:
                raise ValidationError(f"{where}.DesiredInstanceCount: variant {name} is serverless; its instances "
                                      "follow its requests (ServerlessConfig)")
            if wanted.get("DesiredInstanceCount") is not None:
                variant.desired_count = int(wanted["DesiredInstanceCount"])
        if all(v.desired_weight == 0 for v in current.variants):
            raise ValidationError("DesiredWeightsAndCapacities: at least one variant must keep a weight above 0")
        for shadow in state.shadows:
            source = current.variant(shadow.source_variant or "") or current.variants[0]
            if shadow.experiment is None:
                shadow.traffic = shadow_sampling(shadow.variants[0], source)
        self.check_capacity(state, row["name"], "DesiredWeightsAndCapacities")
        return {"state": state, "status": "Updating", "modified_at": self.clock.now()}

    def scale_variant(self, name: str, variant_name: str, count: int) -> None:
        """The scaling controller's action: set a variant's DesiredInstanceCount as
        UpdateEndpointWeightsAndCapacities would (refused while the endpoint is not InService or a deployment
        runs on it: SageMaker blocks scaling while an endpoint is Updating)."""
        def change(row: Doc) -> Doc:
            state: DesiredState = row["state"].copy_deep()
            if row["status"] != "InService" or state.deployment is not None:
                raise ValidationError(f'Cannot scale endpoint "{row["arn"]}": its status is {row["status"]}'
                                      + (" (a deployment is running)" if state.deployment is not None else ""))
            variant = state.current.variant(variant_name)
            if variant is None:
                raise ValidationError(f'The variant "{variant_name}" is not present within endpoint "{name}".')
            variant.desired_count = count
            self.check_capacity(state, row["name"], f"variant {variant_name}")
            return {"state": state, "status": "Updating", "modified_at": self.clock.now()}

        self.mutate(name, change)
        self.changed()

    def set_serverless_count(self, name: str, variant_name: str, count: int) -> None:
        """The serverless controller's action: how many instances of a serverless variant run (0 when idle).
        The endpoint stays InService (a cold start is not an update); nothing while a deployment runs."""
        def change(row: Doc) -> Doc:
            state: DesiredState = row["state"].copy_deep()
            variant = state.current.variant(variant_name)
            if row["status"] != "InService" or state.deployment is not None or variant is None:
                raise ValidationError(f'Endpoint "{name}" cannot start or stop serverless instances now '
                                      f"(status {row['status']})")
            variant.desired_count = count
            self.check_capacity(state, row["name"], f"serverless variant {variant_name}")
            return {"state": state, "modified_at": self.clock.now()}

        self.mutate(name, change)
        self.changed()

    def check_capacity(self, state: DesiredState, endpoint_name: str | None, where: str) -> None:
        """Refuse (ResourceLimitExceeded) a desired state asking for more instances than the ceilings allow:
        per variant, per endpoint (its fleets together) and per server (with every other endpoint)."""
        if self.limits is None:
            return
        for fleet in state.fleets:
            for variant, count in fleet_counts(fleet).items():
                self.limits.check_variant(count, f"{where}: variant {variant}")
        wanted = endpoint_instances(state)
        self.limits.check_endpoint(0, wanted, where)
        others = sum(endpoint_instances(r["state"]) for r in self.repo.list_endpoints()
                     if r["name"] != endpoint_name and r["status"] not in ("Deleting", "Failed"))
        self.limits.check_total(others, wanted, where)

    def list_instances(self, name: str) -> Doc:
        """greenfleet's own view of an endpoint's instance processes (not a SageMaker operation)."""
        self.endpoint(name)
        instances = [
            {"InstanceId": r["id"], "Group": f"{r['fleet_id']}/{r['variant_name']}", "FleetId": r["fleet_id"],
             "EndpointConfigName": r["config_name"], "VariantName": r["variant_name"], "Host": r["host"],
             "Port": r["port"], "Pid": r["backend_ref"].get("pid"), "StartedAt": r["started_at"],
             "ReadyAt": r["ready_at"]}
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


def shadow_sampling(shadow: VariantDesired, source: VariantDesired) -> float:
    """The percent of the source variant's requests a config's shadow variant gets a copy of: its weight over
    the production variant's, at most 100 (SageMaker documents no sampling member for a raw shadow config; its
    examples give both weight 1 and the shadow sees every request; weights read as the share is the reported
    behaviour, not a documented one). A source weighing 0 takes no requests, so there is nothing to copy."""
    if source.desired_weight <= 0:
        return 0.0
    return min(100.0, 100.0 * max(shadow.desired_weight, 0.0) / source.desired_weight)


def describe(row: Doc, observed: ObservedState) -> Doc:
    """DescribeEndpoint's answer for a stored endpoint row and what the control pass observed of it."""
    state: DesiredState = row["state"]
    current = state.current
    result: Doc = {
        "EndpointName": row["name"],
        "EndpointArn": row["arn"],
        "EndpointConfigName": row["config_name"],
        "ProductionVariants": [_summary(current.id, v, observed) for v in current.variants],
        "EndpointStatus": row["status"],
        "CreationTime": row["created_at"],
        "LastModifiedTime": row["modified_at"],
    }
    shadows = [_summary(f.id, v, observed) for f in state.shadows for v in f.variants]
    if shadows:
        result["ShadowProductionVariants"] = shadows
    if row["failure_reason"]:
        result["FailureReason"] = row["failure_reason"]
    capture = current.data_capture
    if capture is not None:
        result["DataCaptureConfig"] = capture.summary()
    if state.last_deployment_config:
        result["LastDeploymentConfig"] = state.last_deployment_config
    if current.asynchronous is not None:
        result["AsyncInferenceConfig"] = current.asynchronous.wire()
    view = observed.deployment_view
    if view and (state.deployment or row["status"] == "UpdateRollbackFailed"):
        _merge_view(result, view, state)
    pending = [_summary(f.id, v, observed) for f in state.pending_shadows for v in f.variants]
    if pending and "PendingDeploymentSummary" in result:
        result["PendingDeploymentSummary"]["ShadowProductionVariants"] = pending
    return result


def _merge_view(result: Doc, view: Doc, state: DesiredState) -> None:
    """While a deployment runs, weights, counts and VariantStatus come from the rollout's view."""
    ours = {v["VariantName"]: v for v in result["ProductionVariants"]}
    result["ProductionVariants"] = [{**ours.get(v["VariantName"], {}), **v} for v in view["ProductionVariants"]]
    pending = view.get("PendingDeploymentSummary")
    if pending:
        green = state.pending
        images = {v.name: _summary(green.id, v, ObservedState()) for v in green.variants} if green else {}
        pending = {**pending, "ProductionVariants": [
            {**{k: images.get(v["VariantName"], {}).get(k) for k in ("DeployedImages", "RoutingConfig")
                if images.get(v["VariantName"])}, **v}
            for v in pending.get("ProductionVariants", [])]}
        result["PendingDeploymentSummary"] = pending
    if view.get("FailureReason"):
        result["FailureReason"] = view["FailureReason"]


def _summary(fleet_id: int, variant: VariantDesired, observed: ObservedState) -> Doc:
    seen = observed.variant(fleet_id, variant.name)
    summary: Doc = {
        "VariantName": variant.name,
        "DeployedImages": [{"SpecifiedImage": c.Image, "ResolvedImage": c.Image}
                           for c in (variant.pipeline.Containers if variant.pipeline else [variant.container])],
        "CurrentWeight": seen.current_weight,
        "DesiredWeight": variant.desired_weight,
        "CurrentInstanceCount": seen.current_count,
        "DesiredInstanceCount": variant.desired_count,
        "RoutingConfig": {"RoutingStrategy": variant.routing_strategy},
    }
    if seen.status:
        summary["VariantStatus"] = [s.wire() for s in seen.status]
    if variant.serverless is not None:
        config = {"MemorySizeInMB": variant.serverless.memory_mb, "MaxConcurrency": variant.serverless.max_concurrency}
        if variant.serverless.provisioned:
            config["ProvisionedConcurrency"] = variant.serverless.provisioned
        summary["CurrentServerlessConfig"] = summary["DesiredServerlessConfig"] = config
    return summary
