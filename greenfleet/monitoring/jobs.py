"""A data-quality job as executions run it (the inline MonitoringJobDefinition shape), checked for what
greenfleet can honour, and DataQualityJobDefinitions converted to it."""

from __future__ import annotations

from typing import Any, Protocol

from greenfleet.errors import ResourceNotFound, ValidationError

Doc = dict[str, Any]
ENVIRONMENT = {"publish_cloudwatch_metrics"}


class Definitions(Protocol):
    def job_definition(self, name: str) -> Doc | None: ...


def resolve_job(repo: Definitions, config: Doc) -> Doc:
    """The job a schedule runs: its inline MonitoringJobDefinition, or the named job definition's."""
    name = config.get("MonitoringJobDefinitionName")
    if name:
        row = repo.job_definition(name)
        if row is None:
            raise ResourceNotFound(f"Job definition {name} does not exist")
        job: Doc = row["job"]
        return job
    inline = config.get("MonitoringJobDefinition")
    if not inline:
        raise ValidationError("MonitoringScheduleConfig: MonitoringJobDefinition or MonitoringJobDefinitionName "
                              "is required")
    return dict(inline)


def inline_job(params: Doc) -> Doc:
    """CreateDataQualityJobDefinition's members in the inline MonitoringJobDefinition shape."""
    app = dict(params["DataQualityAppSpecification"])
    environment = app.pop("Environment", None)
    baseline = dict(params.get("DataQualityBaselineConfig") or {})
    job_input = params["DataQualityJobInput"]
    if job_input.get("BatchTransformInput"):
        raise ValidationError("DataQualityJobInput.BatchTransformInput is not supported by greenfleet "
                              "(EndpointInput is)")
    job: Doc = {"MonitoringInputs": [{"EndpointInput": job_input.get("EndpointInput") or {}}],
                "MonitoringOutputConfig": params["DataQualityJobOutputConfig"],
                "MonitoringResources": params["JobResources"], "MonitoringAppSpecification": app,
                "RoleArn": params["RoleArn"]}
    for key, value in (("BaselineConfig", baseline), ("Environment", environment),
                       ("StoppingCondition", params.get("StoppingCondition")),
                       ("NetworkConfig", params.get("NetworkConfig"))):
        if value:
            job[key] = value
    return job


def check_job(job: Doc) -> str:
    """The endpoint a valid job monitors; refuses what greenfleet's data-quality analysis cannot honour."""
    inputs = job["MonitoringInputs"]
    if len(inputs) != 1 or not inputs[0].get("EndpointInput"):
        raise ValidationError("MonitoringJobDefinition.MonitoringInputs: exactly one EndpointInput is supported")
    if len(job["MonitoringOutputConfig"]["MonitoringOutputs"]) != 1:
        raise ValidationError("MonitoringJobDefinition.MonitoringOutputConfig: exactly one output is supported")
    app = job["MonitoringAppSpecification"]
    for unsupported in ("RecordPreprocessorSourceUri", "PostAnalyticsProcessorSourceUri", "ContainerEntrypoint",
                        "ContainerArguments"):
        if app.get(unsupported):
            raise ValidationError(f"MonitoringAppSpecification.{unsupported} is not supported by greenfleet: "
                                  "executions run greenfleet's built-in data-quality analysis")
    endpoint_input = inputs[0]["EndpointInput"]
    for member in ("FeaturesAttribute", "InferenceAttribute", "ProbabilityAttribute",
                   "ProbabilityThresholdAttribute", "StartTimeOffset", "EndTimeOffset", "ExcludeFeaturesAttribute"):
        if endpoint_input.get(member) is not None:
            raise ValidationError(f"EndpointInput.{member} is not supported by greenfleet's data-quality analysis")
    for member, default in (("S3InputMode", "File"), ("S3DataDistributionType", "FullyReplicated")):
        if endpoint_input.get(member, default) != default:
            raise ValidationError(f"EndpointInput.{member}: only {default} is supported")
    for member in ("NetworkConfig",):
        if job.get(member):
            raise ValidationError(f"MonitoringJobDefinition.{member} is not supported by greenfleet: executions "
                                  "run inside the server")
    if job["MonitoringOutputConfig"].get("KmsKeyId"):
        raise ValidationError("MonitoringOutputConfig.KmsKeyId is not supported by greenfleet yet")
    unknown = set(job.get("Environment") or {}) - ENVIRONMENT
    if unknown:
        raise ValidationError(f"MonitoringJobDefinition.Environment: {', '.join(sorted(unknown))} not supported "
                              f"(supported: {', '.join(sorted(ENVIRONMENT))})")
    return str(inputs[0]["EndpointInput"]["EndpointName"])


def quality_job(params: Doc) -> tuple[Doc, str]:
    """CreateModelQualityJobDefinition's members as stored (and run), and the endpoint they monitor."""
    app = params["ModelQualityAppSpecification"]
    if app.get("ProblemType") not in ("BinaryClassification", "MulticlassClassification", "Regression"):
        raise ValidationError("ModelQualityAppSpecification.ProblemType is required: BinaryClassification, "
                              "MulticlassClassification or Regression")
    for unsupported in ("RecordPreprocessorSourceUri", "PostAnalyticsProcessorSourceUri", "ContainerEntrypoint",
                        "ContainerArguments"):
        if app.get(unsupported):
            raise ValidationError(f"ModelQualityAppSpecification.{unsupported} is not supported by greenfleet: "
                                  "executions run greenfleet's built-in model-quality analysis")
    unknown = set(app.get("Environment") or {}) - ENVIRONMENT
    if unknown:
        raise ValidationError(f"ModelQualityAppSpecification.Environment: {', '.join(sorted(unknown))} not "
                              f"supported (supported: {', '.join(sorted(ENVIRONMENT))})")
    job_input = params["ModelQualityJobInput"]
    endpoint_input = job_input.get("EndpointInput")
    if job_input.get("BatchTransformInput") or not endpoint_input:
        raise ValidationError("ModelQualityJobInput: an EndpointInput is required (BatchTransformInput is not "
                              "supported by greenfleet)")
    for member in ("FeaturesAttribute", "ExcludeFeaturesAttribute"):
        if endpoint_input.get(member) is not None:
            raise ValidationError(f"EndpointInput.{member} is not used by model quality; leave it out")
    for member, default in (("S3InputMode", "File"), ("S3DataDistributionType", "FullyReplicated")):
        if endpoint_input.get(member, default) != default:
            raise ValidationError(f"EndpointInput.{member}: only {default} is supported")
    if params.get("NetworkConfig"):
        raise ValidationError("NetworkConfig is not supported by greenfleet: executions run inside the server")
    if len(params["ModelQualityJobOutputConfig"]["MonitoringOutputs"]) != 1 or \
            params["ModelQualityJobOutputConfig"].get("KmsKeyId"):
        raise ValidationError("ModelQualityJobOutputConfig: exactly one output, without KmsKeyId, is supported")
    job = {k: v for k, v in params.items() if k not in ("JobDefinitionName", "Tags")}
    job["Environment"] = app.get("Environment") or {}
    return job, str(endpoint_input["EndpointName"])
