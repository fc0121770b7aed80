"""An endpoint's state, typed: what the API asked for (desired) apart from what the control plane saw
(observed). The one module that declares both; every reader and writer goes through these models.

    endpoints row (compare-and-set; API, deployment driver)   endpoint_observations row (no contention)
    ├── config_name, status, failure_reason                    └── ObservedState, written only by the
    └── state: DesiredState                                        control pass (reconciler, driver)
        ├── fleets: [Fleet]  id, config, role, traffic %,          ├── fleets: {fleet id: {variant:
        │    │   data_capture (its config's DataCaptureConfig)      │       VariantObserved}} counts,
        │    └── variants: [VariantDesired]  count, weight,        │
        │        container snapshot, routing, startup timeout      │       weights, VariantStatus
        ├── current_fleet_id  the fleet of ``config_name``         └── deployment_view (the rollout's
        ├── deployment: DeploymentRef | None  (id, commands)            DescribeEndpoint view)
        └── last_deployment_config

An endpoint serves its current production fleet; during a deployment a second production fleet (the
green one) takes its ``traffic`` percent. A shadow fleet (role ``shadow``: an endpoint config's
ShadowProductionVariants, or an inference experiment's shadow) runs its own instances and gets a copy of
``traffic`` percent of the requests its ``source_variant`` answers; its answers are never returned.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FleetRole = Literal["production", "shadow", "baseline"]
"""baseline: the canary judge's copy of the current fleet, run beside a deployment's green fleet
(greenfleet/rollout/baseline.py); it takes its ``traffic`` percent like a production fleet."""
VariantStatusName = Literal["Creating", "Updating", "Deleting", "ActivatingTraffic", "Baking"]
DEFAULT_ROUTING = "LEAST_OUTSTANDING_REQUESTS"


class ContainerSnapshot(BaseModel):
    """The model's container as it was when the fleet was created (SageMaker's ContainerDefinition
    members, kept verbatim: an instance always runs the snapshot, not the model's current definition)."""

    model_config = ConfigDict(extra="allow")

    Image: str
    ContainerHostname: str | None = None
    ModelDataUrl: str | None = None
    Environment: dict[str, str] = Field(default_factory=dict)

    def definition(self) -> dict[str, Any]:
        """The ContainerDefinition document the instance backend runs."""
        return self.model_dump(exclude_none=True)


class ServerlessSpec(BaseModel):
    """A serverless variant's ServerlessConfig: instances start on demand (held first request), stop after an
    idle period; ``provisioned`` of them stay warm."""

    memory_mb: int
    max_concurrency: int
    provisioned: int = 0


class PipelineSnapshot(BaseModel):
    """An inference pipeline's containers as they were when the fleet was created (each with its
    ContainerHostname) and its InferenceExecutionConfig.Mode (``greenfleet.resources.pipeline``)."""

    Mode: Literal["Serial", "Direct"] = "Serial"
    Containers: list[ContainerSnapshot]

    def definition(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class VariantDesired(BaseModel):
    """Values are checked where requests enter (the services); the stored state always loads, and the
    reconciler bounds what it runs (instance ceilings), so one bad stored value cannot stop the pass."""

    name: str
    model_name: str
    container: ContainerSnapshot
    """The model's container (a pipeline's first one)."""
    pipeline: PipelineSnapshot | None = None
    """All the containers of an inference pipeline model (None for a single-container model)."""
    desired_count: int
    desired_weight: float
    routing_strategy: str = DEFAULT_ROUTING
    startup_timeout_s: float | None = None
    instance_type: str | None = None
    serverless: ServerlessSpec | None = None


    def instance_document(self) -> dict[str, Any]:
        """What each instance of this variant runs: the container's definition, or the pipeline's."""
        return self.pipeline.definition() if self.pipeline is not None else self.container.definition()


class AsyncConfig(BaseModel):
    """The fleet's AsyncInferenceConfig, checked (``greenfleet.asyncinference.config``): the fleet takes only
    InvokeEndpointAsync, at most ``max_concurrent`` requests per instance at once."""

    max_concurrent: int
    output_path: str
    failure_path: str | None = None
    notification: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        """SageMaker's AsyncInferenceConfig (as DescribeEndpoint shows it)."""
        output: dict[str, Any] = {"S3OutputPath": self.output_path}
        if self.failure_path:
            output["S3FailurePath"] = self.failure_path
        if self.notification:
            output["NotificationConfig"] = self.notification
        return {"ClientConfig": {"MaxConcurrentInvocationsPerInstance": self.max_concurrent}, "OutputConfig": output}


class DataCapture(BaseModel):
    """A fleet's DataCaptureConfig, SageMaker's members as CreateEndpointConfig checked them (the capture
    writer and DescribeEndpoint read them; ``capture.config.capture_setting`` turns them into the data
    plane's setting)."""

    EnableCapture: bool = True
    InitialSamplingPercentage: int
    DestinationS3Uri: str
    KmsKeyId: str | None = None
    CaptureOptions: list[dict[str, str]] = Field(default_factory=list)
    CaptureContentTypeHeader: dict[str, list[str]] | None = None

    def config(self) -> dict[str, Any]:
        """The DataCaptureConfig document (None members left out)."""
        return self.model_dump(exclude_none=True)

    def summary(self) -> dict[str, Any]:
        """DescribeEndpoint's DataCaptureConfigSummary."""
        result: dict[str, Any] = {
            "EnableCapture": self.EnableCapture,
            "CaptureStatus": "Started" if self.EnableCapture else "Stopped",
            "CurrentSamplingPercentage": self.InitialSamplingPercentage,
            "DestinationS3Uri": self.DestinationS3Uri,
        }
        if self.KmsKeyId:
            result["KmsKeyId"] = self.KmsKeyId
        return result


class Fleet(BaseModel):
    """The variants of one endpoint config, started as one unit; ``traffic`` is its percent of the
    endpoint's requests (a production fleet's share; a shadow fleet's copy of them)."""

    id: int
    config_name: str
    role: FleetRole = "production"
    traffic: float = 100.0
    variants: list[VariantDesired]
    target_counts: dict[str, int] = Field(default_factory=dict)
    """A green fleet's final counts (it starts at zero and the deployment scales it up)."""
    source_variant: str | None = None
    """A shadow fleet mirrors the requests this production variant answers (None: every production variant)."""
    experiment: str | None = None
    """The inference experiment that added this shadow fleet (None: the endpoint config declared it)."""
    asynchronous: AsyncConfig | None = None
    """Set for an asynchronous endpoint config (AsyncInferenceConfig)."""
    data_capture: DataCapture | None = None
    """Its endpoint config's DataCaptureConfig: the endpoint captures as its current fleet says."""
    series_name: str | None = None
    """The EndpointConfigName of its per-config metric series when not ``config_name`` (a baseline's)."""
    pending: bool = False
    """A shadow fleet of the config a deployment moves to, started with its green fleet: it replaces the
    endpoint's config shadow when the deployment succeeds and is stopped with green when it rolls back
    (DescribeEndpoint lists it in PendingDeploymentSummary.ShadowProductionVariants meanwhile)."""

    def variant(self, name: str) -> VariantDesired | None:
        return next((v for v in self.variants if v.name == name), None)

    @property
    def weight_total(self) -> float:
        return sum(v.desired_weight for v in self.variants)


class QueuedCommand(BaseModel):
    command_id: str
    kind: str
    by: str
    reason: str = ""
    at: float


class DeploymentRef(BaseModel):
    """The deployment in progress (its rollout state lives in the deployments table) and the operators'
    commands queued for it."""

    id: str
    commands: list[QueuedCommand] = Field(default_factory=list)


class DesiredState(BaseModel):
    fleets: list[Fleet]
    current_fleet_id: int
    deployment: DeploymentRef | None = None
    last_deployment_config: dict[str, Any] | None = None
    ab_test: str | None = None
    """The A/B test running on the endpoint (the router records which variant answered each inference id)."""

    @property
    def current(self) -> Fleet:
        return next(f for f in self.fleets if f.id == self.current_fleet_id)

    @property
    def pending(self) -> Fleet | None:
        """The green fleet of a deployment in progress, if any."""
        return next((f for f in self.fleets if f.role == "production" and f.id != self.current_fleet_id), None)

    @property
    def shadows(self) -> list[Fleet]:
        """The endpoint's shadow fleets (a deployment's pending one apart: ``pending_shadows``)."""
        return [f for f in self.fleets if f.role == "shadow" and not f.pending]

    @property
    def pending_shadows(self) -> list[Fleet]:
        return [f for f in self.fleets if f.role == "shadow" and f.pending]

    @property
    def next_fleet_id(self) -> int:
        return max(f.id for f in self.fleets) + 1

    def fleet(self, fleet_id: int) -> Fleet | None:
        return next((f for f in self.fleets if f.id == fleet_id), None)

    def copy_deep(self) -> DesiredState:
        return self.model_copy(deep=True)


class VariantStatus(BaseModel):
    """One of SageMaker's VariantStatus entries."""

    status: VariantStatusName
    message: str | None = None
    start_time: float

    def wire(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"Status": self.status, "StartTime": self.start_time}
        if self.message:
            entry["StatusMessage"] = self.message
        return entry


class VariantObserved(BaseModel):
    current_count: int = 0
    current_weight: float = 0.0
    status: list[VariantStatus] = Field(default_factory=list)


class ObservedState(BaseModel):
    fleets: dict[str, dict[str, VariantObserved]] = Field(default_factory=dict)
    """Fleet id (as text) → variant name → what was observed."""
    deployment_view: dict[str, Any] | None = None
    """The rollout's view (DescribeEndpoint's members while a deployment runs), by the deployment driver."""

    def variant(self, fleet_id: int, name: str) -> VariantObserved:
        return self.fleets.get(str(fleet_id), {}).get(name) or VariantObserved()


def production_fleet(fleet_id: int, config_name: str, variants: list[VariantDesired], traffic: float = 100.0,
                     target_counts: dict[str, int] | None = None, data_capture: DataCapture | None = None) -> Fleet:
    return Fleet(id=fleet_id, config_name=config_name, traffic=traffic, variants=variants,
                 target_counts=target_counts or {}, data_capture=data_capture)
