"""An inference experiment's members: the checks SageMaker's documentation states (beyond botocore's
model, which ``validate_input`` applies), and the Describe/List shapes.

The stored ``spec`` is SageMaker's document with the Schedule as epoch seconds, plus ``_start_requested``
(StartInferenceExperiment) and ``_stop`` (StopInferenceExperiment's request, normalised)."""

from __future__ import annotations

from typing import Any

from greenfleet.capture.config import check_capture_config
from greenfleet.errors import ResourceInUse, ValidationError
from greenfleet.experiments.machine import ExperimentState
from greenfleet.metrics.timestamps import parse_time
from greenfleet.resources.endpoint_state import DataCapture, DesiredState

Doc = dict[str, Any]
DAY_S = 86400.0
DEFAULT_DURATION_S = 7 * DAY_S
MAX_DURATION_S = 30 * DAY_S
STORED = ("Type", "Schedule", "Description", "RoleArn", "EndpointName", "ModelVariants", "DataStorageConfig",
          "ShadowModeConfig", "DeploymentConfig")


def storage_capture(spec: Doc) -> DataCapture | None:
    """The experiment's DataStorageConfig as a capture of every mirrored request, input and output."""
    storage = spec.get("DataStorageConfig")
    if not storage:
        return None
    return DataCapture(InitialSamplingPercentage=100, DestinationS3Uri=storage["Destination"],
                       KmsKeyId=storage.get("KmsKey"), CaptureOptions=[{"CaptureMode": "Input"},
                                                                       {"CaptureMode": "Output"}],
                       CaptureContentTypeHeader=storage.get("ContentType"))


def schedule_of(spec: Doc) -> tuple[float, float]:
    schedule = spec["Schedule"]
    return float(schedule["StartTime"]), float(schedule["EndTime"])


def _schedule(given: Doc | None, now: float, earliest_start: float | None = None) -> Doc:
    given = given or {}
    start = parse_time(given["StartTime"], "Schedule.StartTime") if given.get("StartTime") is not None else now
    if earliest_start is not None:
        start = earliest_start
    end = parse_time(given["EndTime"], "Schedule.EndTime") if given.get("EndTime") is not None \
        else start + DEFAULT_DURATION_S
    if end <= start:
        raise ValidationError("Schedule: EndTime must be after StartTime")
    if end - start > MAX_DURATION_S:
        raise ValidationError("Schedule: an inference experiment runs at most 30 days (EndTime - StartTime)")
    if end <= now:
        raise ValidationError("Schedule.EndTime must be in the future")
    return {"StartTime": start, "EndTime": end}


def _check_variants(spec: Doc, endpoint: Doc) -> None:
    storage = spec.get("DataStorageConfig")
    if storage:
        check_capture_config({"DestinationS3Uri": storage["Destination"], "KmsKeyId": storage.get("KmsKey")})
    variants = {v["VariantName"]: v for v in spec["ModelVariants"]}
    if len(variants) != len(spec["ModelVariants"]):
        raise ValidationError("ModelVariants: variant names must be unique")
    shadow_config = spec["ShadowModeConfig"]
    shadows = shadow_config["ShadowModelVariants"]
    if len(shadows) != 1:
        raise ValidationError("ShadowModeConfig.ShadowModelVariants: exactly one shadow variant")
    source, shadow = shadow_config["SourceModelVariantName"], shadows[0]["ShadowModelVariantName"]
    if source == shadow:
        raise ValidationError("ShadowModeConfig: the shadow variant cannot be its own source")
    for name, where in ((source, "SourceModelVariantName"), (shadow, "ShadowModelVariants.1.ShadowModelVariantName")):
        if name not in variants:
            raise ValidationError(f"ShadowModeConfig.{where}: {name} is not one of ModelVariants")
    if len(variants) != 2:
        raise ValidationError("ModelVariants: give the production (source) variant and the shadow variant")
    state: DesiredState = endpoint["state"]
    production = state.current.variant(source)
    if production is None:
        raise ValidationError(f"ShadowModeConfig.SourceModelVariantName: endpoint {endpoint['name']} has no "
                              f"production variant {source}")
    if variants[source]["ModelName"] != production.model_name:
        raise ValidationError(f"ModelVariants: variant {source} of endpoint {endpoint['name']} serves model "
                              f"{production.model_name}, not {variants[source]['ModelName']}")
    taken = {v.name.lower() for f in state.fleets for v in f.variants}
    if shadow.lower() in taken:
        raise ValidationError(f"ModelVariants: endpoint {endpoint['name']} already has a variant named {shadow}")
    for name, variant in variants.items():
        config = variant["InfrastructureConfig"]
        if config["InfrastructureType"] != "RealTimeInference":
            raise ValidationError(f"ModelVariants: variant {name}: InfrastructureType must be RealTimeInference")
        if name == shadow and int(config["RealTimeInferenceConfig"]["InstanceCount"]) < 1:
            raise ValidationError(f"ModelVariants: shadow variant {name} needs at least one instance")


def check_create(params: Doc, endpoint: Doc, now: float) -> Doc:
    if params["Type"] != "ShadowMode":
        raise ValidationError("Type: only ShadowMode experiments exist")
    if endpoint["status"] != "InService":
        raise ResourceInUse(f"Endpoint {endpoint['name']} is {endpoint['status']}; an inference experiment needs "
                            "it InService")
    spec = {k: params[k] for k in STORED if params.get(k) is not None}
    spec["EndpointName"] = endpoint["name"]
    spec["Schedule"] = _schedule(params.get("Schedule"), now)
    _check_variants(spec, endpoint)
    return spec


def check_update(spec: Doc, params: Doc, endpoint: Doc, started: bool, now: float) -> Doc:
    if params.get("Description") is not None:
        spec["Description"] = params["Description"]
    if params.get("Schedule") is not None:
        start, _end = schedule_of(spec)
        given = {**({"StartTime": start} if started else {}), **params["Schedule"]}
        if started and given.get("StartTime") not in (None, start):
            raise ValidationError("Schedule.StartTime cannot change once the experiment started")
        spec["Schedule"] = _schedule(given, now, start if started else None)
    if params.get("ShadowModeConfig") is not None:
        if started:
            old = spec["ShadowModeConfig"]
            new = params["ShadowModeConfig"]
            names = [v["ShadowModelVariantName"] for v in new["ShadowModelVariants"]]
            if new["SourceModelVariantName"] != old["SourceModelVariantName"] or \
                    names != [v["ShadowModelVariantName"] for v in old["ShadowModelVariants"]]:
                raise ValidationError("ShadowModeConfig: once started, only the shadow's SamplingPercentage may "
                                      "change")
        spec["ShadowModeConfig"] = params["ShadowModeConfig"]
    for member in ("ModelVariants", "DataStorageConfig"):
        if params.get(member) is not None:
            spec[member] = params[member]
    if not started:
        _check_variants(spec, endpoint)
    return spec


def check_stop(spec: Doc, params: Doc) -> Doc:
    actions: dict[str, str] = params["ModelVariantActions"]
    source = spec["ShadowModeConfig"]["SourceModelVariantName"]
    shadow = spec["ShadowModeConfig"]["ShadowModelVariants"][0]["ShadowModelVariantName"]
    unknown = sorted(set(actions) - {source, shadow})
    if unknown:
        raise ValidationError(f"ModelVariantActions: {', '.join(unknown)} is not a variant of this experiment")
    if actions.get(source, "Retain") == "Remove":
        raise ValidationError(f"ModelVariantActions: the production variant {source} cannot be removed (promote "
                              "the shadow to replace it)")
    if actions.get(source) == "Promote" and actions.get(shadow) == "Promote":
        raise ValidationError("ModelVariantActions: promote one variant")
    shadow_action = actions.get(shadow, "Remove")
    desired = {v["VariantName"]: v for v in params.get("DesiredModelVariants") or []}
    return {"ShadowAction": shadow_action, "DesiredState": params.get("DesiredState", "Completed"),
            "Reason": params.get("Reason"), "DesiredVariant": desired.get(shadow)}


def _variant_status(name: str, source: str, state: ExperimentState) -> str:
    if name == source:
        return "InService"
    if state.status in ("Creating", "Created"):
        return "Creating"
    if state.status == "Starting":
        return "Creating"
    if state.status in ("Running", "Updating"):
        return "InService"
    if state.status == "Stopping":
        return "Updating" if state.shadow_outcome == "Promote" else "Deleting"
    return "InService" if state.shadow_outcome == "Retain" else "Deleted"


def describe(row: Doc, state: ExperimentState, endpoint: Doc | None) -> Doc:
    spec = row["spec"]
    source = spec["ShadowModeConfig"]["SourceModelVariantName"]
    result: Doc = {
        "Arn": row["arn"], "Name": row["name"], "Type": spec["Type"], "Schedule": spec["Schedule"],
        "Status": row["status"], "CreationTime": row["created_at"], "LastModifiedTime": row["modified_at"],
        "RoleArn": spec.get("RoleArn"),
        "EndpointMetadata": {"EndpointName": row["endpoint_name"]},
        "ModelVariants": [{**{k: v[k] for k in ("ModelName", "VariantName", "InfrastructureConfig")},
                           "Status": _variant_status(v["VariantName"], source, state)} for v in spec["ModelVariants"]],
        "ShadowModeConfig": spec["ShadowModeConfig"],
    }
    if endpoint is not None:
        result["EndpointMetadata"].update(EndpointConfigName=endpoint["config_name"],
                                          EndpointStatus=endpoint["status"])
        if endpoint.get("failure_reason"):
            result["EndpointMetadata"]["FailureReason"] = endpoint["failure_reason"]
    for key in ("Description", "DataStorageConfig"):
        if spec.get(key) is not None:
            result[key] = spec[key]
    if state.status_reason:
        result["StatusReason"] = state.status_reason
    if state.completion_time is not None:
        result["CompletionTime"] = state.completion_time
    return result


def summary(row: Doc, state: ExperimentState) -> Doc:
    spec = row["spec"]
    item: Doc = {"Name": row["name"], "Type": spec["Type"], "Schedule": spec["Schedule"], "Status": row["status"],
                 "CreationTime": row["created_at"], "LastModifiedTime": row["modified_at"]}
    for key, value in (("StatusReason", state.status_reason), ("Description", spec.get("Description")),
                       ("CompletionTime", state.completion_time), ("RoleArn", spec.get("RoleArn"))):
        if value is not None:
            item[key] = value
    return item
