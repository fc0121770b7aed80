"""The shapes of greenfleet's own operations (deployments, events, webhook targets, instances, the
registry's and Model Monitor's extras), for the OpenAPI document: SageMaker's and CloudWatch's come from
botocore's model (greenfleet.api.openapi).
The services build these answers as dicts; these models describe them and are not used to validate."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from greenfleet.rollout.extension import RolloutExtension

Json = dict[str, JsonValue]


class Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeploymentSummary(BaseModel):
    DeploymentId: str
    EndpointName: str
    StartTime: float = Field(description="epoch seconds")
    EndTime: float | None = Field(description="epoch seconds; null while it runs")
    Outcome: str | None = Field(description="null while it runs")
    Phase: str
    Strategy: str
    FromConfig: str
    ToConfig: str
    FailureReason: str | None


class DeploymentList(BaseModel):
    Deployments: list[DeploymentSummary] = Field(description="newest first")


class TimelineEntry(BaseModel):
    Seq: int
    At: float
    Phase: str
    Message: str


class Deployment(DeploymentSummary):
    View: Json = Field(description="the blue and green fleets, weights and the current step")
    Timeline: list[TimelineEntry]
    Rollout: Json = Field(description="greenfleet's steps, gates, checks and judge")


class DeploymentCommand(BaseModel):
    Reason: str | None = None
    By: str | None = Field(default=None, description="who commands (default: api)")
    CommandId: str | None = Field(default=None, description="idempotency key")


class DeploymentCommandAnswer(BaseModel):
    CommandId: str
    DeploymentId: str
    Kind: Literal["ABORT", "PAUSE", "RESUME", "APPROVE", "PROMOTE"]


class Instance(BaseModel):
    InstanceId: str
    Group: str
    StartedAt: float | None
    ReadyAt: float | None


class InstanceList(BaseModel):
    Instances: list[Instance]


class Event(BaseModel):
    """EventBridge's envelope, plus the log's sequence number."""

    version: str
    id: str
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str
    time: str
    region: str
    resources: list[str]
    detail: Json
    seq: int


class EventList(BaseModel):
    Events: list[Event]
    LastSeq: int | None = Field(description="pass as after= to read only newer events")


class PutEvent(BaseModel):
    Source: str
    DetailType: str
    Detail: Json = Field(default_factory=dict)
    Resource: str | None = None


class EventTargetInput(BaseModel):
    Url: str
    EventPattern: dict[str, list[str]] | None = Field(
        default=None, description="source, detail-type and/or resources: accepted values")
    Description: str | None = None
    Enabled: bool | None = None


class EventTargetChange(BaseModel):
    Url: str | None = None
    EventPattern: dict[str, list[str]] | None = None
    Description: str | None = None
    Enabled: bool | None = None


class EventTarget(BaseModel):
    Id: str
    Url: str
    EventPattern: dict[str, list[str]]
    Description: str | None
    Enabled: bool
    CreatedAt: str
    UpdatedAt: str


class EventTargetList(BaseModel):
    Targets: list[EventTarget]


class Delivery(BaseModel):
    Id: str
    Kind: str
    TargetId: str | None
    Url: str
    DedupId: str
    Status: str
    Attempts: int
    NextAttemptAt: str | None
    LastStatusCode: int | None
    LastError: str | None
    CreatedAt: str
    UpdatedAt: str
    AttemptLog: list[Json]
    Context: Json | None
    Payload: Json


class DeliveryList(BaseModel):
    Deliveries: list[Delivery]


class RegistryHistory(BaseModel):
    """The audit trail of a group (or one version): who did what, why and when."""

    model_config = ConfigDict(extra="allow")
    ModelPackageGroupName: str
    History: list[Json]


class Champion(BaseModel):
    """The champion alias: the version live on each endpoint bound to the group."""

    model_config = ConfigDict(extra="allow")
    ModelPackageGroupName: str
    Champions: list[Json]


class ServedAt(BaseModel):
    """Which model package version served an endpoint at a time, and who approved it."""

    model_config = ConfigDict(extra="allow")
    EndpointName: str


class RegistryBindingInput(BaseModel):
    """Bind a model package group to an endpoint (variant) with a DeploymentConfig."""

    model_config = ConfigDict(extra="forbid")
    EndpointName: str
    ModelPackageGroupName: str
    VariantName: str | None = None
    DeploymentConfig: Json | None = None


class RegistryBinding(BaseModel):
    """A deployment binding with its champion and any deployment in progress."""

    model_config = ConfigDict(extra="allow")
    EndpointName: str
    ModelPackageGroupName: str
    VariantName: str


class RegistryBindingList(BaseModel):
    model_config = ConfigDict(extra="allow")
    Bindings: list[RegistryBinding]


class EvidenceInput(BaseModel):
    """One check result on a model package version."""

    model_config = ConfigDict(extra="forbid")
    Check: str = Field(description="the check's name, e.g. integration or load")
    Status: Literal["Passed", "Failed"]
    Detail: dict[str, str] | None = Field(default=None, description="what the check measured")
    Url: str | None = Field(default=None, description="where its full report is")


class Evidence(BaseModel):
    model_config = ConfigDict(extra="allow")
    ModelPackageArn: str
    Sequence: int = Field(description="its entry in the audit trail")
    Check: str
    Status: str


class EvidenceList(BaseModel):
    model_config = ConfigDict(extra="allow")
    ModelPackageArn: str
    Evidence: list[Json] = Field(description="oldest first; the newest result of a check counts")
    RequiredChecks: list[str] = Field(description="GREENFLEET_REGISTRY_REQUIRED_EVIDENCE of this server")
    MissingChecks: list[str] = Field(description="required checks without a passed newest result")


class ModelPackageArtifact(BaseModel):
    """The body is the kept model.tar.gz itself (application/gzip), not JSON."""

    model_config = ConfigDict(extra="allow")


class Promotion(BaseModel):
    """The copy a promotion made (or had made before: Created false)."""

    ModelPackageArn: str = Field(description="the copy on this server")
    SourceModelPackageArn: str
    ArtifactDigest: str = Field(description="sha256 of the model.tar.gz, checked on arrival")
    Created: bool


class ExperimentReport(BaseModel):
    """A shadow test's paired comparison: production and shadow on the same requests (by inference id)."""

    model_config = ConfigDict(extra="allow")
    InferenceExperimentName: str
    EndpointName: str
    ProductionVariant: str
    ShadowVariant: str
    Pairs: int = Field(description="requests both variants answered (or failed), paired by inference id")
    Latency: Json = Field(description="ModelLatency p50/p90/p99 per variant (ms), Hodges-Lehmann shift")
    Errors: Json = Field(description="error rates and the always-valid sequential test of their difference")
    Predictions: Json = Field(description="agreement and confusion matrix, or |difference| percentiles; "
                                          "the most divergent inputs")


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    InferenceId: str = Field(description="the X-Amzn-SageMaker-Inference-Id the invocation had or was given")
    Reward: float | None = Field(default=None, description="a reward (for the MeanReward metric)")
    Label: str | None = Field(default=None, description="the ground truth (for the Accuracy metric)")


class PutFeedback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    Outcomes: list[Outcome] = Field(description="1 to 10,000 outcomes; each has a Reward or a Label")


class FeedbackFailure(BaseModel):
    InferenceId: str
    ErrorCode: str = Field(description="UnknownInferenceId or ConflictException")
    Message: str


class FeedbackAnswer(BaseModel):
    Recorded: int
    Duplicates: int = Field(description="outcomes already recorded with the same value (idempotent success)")
    Failed: list[FeedbackFailure]


class AbTestInput(BaseModel):
    model_config = ConfigDict(extra="forbid")
    Name: str
    EndpointName: str
    VariantA: str = Field(description="the control")
    VariantB: str
    Metric: Literal["MeanReward", "Accuracy"] = "MeanReward"
    MinimumSamples: int = Field(default=100, description="outcomes per variant before any decision")
    Confidence: float = 0.95
    OnDecision: Literal["Notify", "ShiftTraffic"] = "Notify"
    DeploymentConfig: Json | None = Field(default=None, description="how ShiftTraffic deploys (default: "
                                                                    "blue/green all at once with a bake)")


class AbTestCreated(BaseModel):
    Name: str
    EndpointName: str


class AbTest(BaseModel):
    """An A/B test's live status: per variant n, mean and interval, the lift and the decision."""

    model_config = ConfigDict(extra="allow")
    Name: str
    EndpointName: str
    Status: str
    Decision: str = Field(description="'B (...) better with 95% confidence', 'A (...) better ...' or "
                                      "'no difference yet'")
    Variants: list[Json]


class AbTestList(BaseModel):
    AbTests: list[Json]


class BaselineInput(BaseModel):
    """Baseline a dataset (data quality; with ProblemType, model quality)."""

    model_config = ConfigDict(extra="forbid")
    DatasetUri: str = Field(description="a path, file:// or s3:// URI of CSV or JSON lines")
    DatasetFormat: Literal["csv", "json"]
    OutputUri: str = Field(description="where statistics.json and constraints.json go")
    Header: bool = Field(default=False, description="the CSV's first row names the columns")
    ProblemType: Literal["BinaryClassification", "MulticlassClassification", "Regression"] | None = Field(
        default=None, description="model-quality baselining of a labelled dataset")
    GroundTruthAttribute: str | None = Field(default=None, description="the column of the true labels")
    InferenceAttribute: str | None = Field(default=None, description="the column of the predictions")
    ProbabilityAttribute: str | None = Field(default=None, description="the column of the probabilities")
    ProbabilityThresholdAttribute: float | None = None


class S3Resource(BaseModel):
    S3Uri: str


class BaselineFeature(BaseModel):
    Name: str
    InferredType: str


class Baseline(BaseModel):
    """Where the baseline's files went, with what they hold."""

    model_config = ConfigDict(extra="allow")
    StatisticsResource: S3Resource
    ConstraintsResource: S3Resource
    ItemCount: int
    Features: list[BaselineFeature] | None = Field(default=None, description="data quality")
    Constraints: Json | None = Field(default=None, description="model quality: constraints.json")


class MonitoringReport(BaseModel):
    """A schedule's latest execution that wrote a report: per feature, baseline vs current, the drift
    distance, the violations and histograms on the baseline's buckets (data quality), or the metrics
    (model quality)."""

    model_config = ConfigDict(extra="allow")
    MonitoringScheduleName: str
    EndpointName: str | None
    Execution: Json = Field(description="the execution's MonitoringExecutionSummary with its OutputUri")
    Features: list[Json] | None = Field(default=None, description="data quality: one entry per feature")
    Metrics: Json | None = Field(default=None, description="model quality: the execution's metrics")
    Violations: list[Json] = Field(description="constraint_violations.json's violations")


SHAPES: dict[str, type[BaseModel]] = {model.__name__: model for model in (
    PutFeedback, FeedbackAnswer, AbTestInput, AbTestCreated, AbTest, AbTestList, ExperimentReport,
    BaselineInput, Baseline, MonitoringReport,
    RegistryHistory, Champion, ServedAt, RegistryBindingInput, RegistryBinding, RegistryBindingList,
    EvidenceInput, Evidence, EvidenceList, ModelPackageArtifact, Promotion,
    Empty, DeploymentList, Deployment, DeploymentCommand, DeploymentCommandAnswer, InstanceList, Event, EventList,
    PutEvent, EventTargetInput, EventTargetChange, EventTarget, EventTargetList, DeliveryList, RolloutExtension)}
