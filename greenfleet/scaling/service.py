"""Application Auto Scaling's API for SageMaker variants (AnyScaleFrontendService on ``POST /``, and the
native REST routes): what it records is desired state only; the scaling controller (machine.py, driver.py)
acts on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from greenfleet.clock import Clock
from greenfleet.errors import GreenfleetError, ValidationError
from greenfleet.resources.endpoint_state import DesiredState
from greenfleet.resources.servicemodel import validate_input
from greenfleet.scaling import config
from greenfleet.scaling.alarms import AlarmShape, alarm_bodies
from greenfleet.scaling.names import NAMESPACE, ObjectNotFound, ScalingArns, check_target_keys
from greenfleet.scaling.repository import Key, ScalingRepository
from greenfleet.services.listing import decode_token, encode_token
from greenfleet.store.repository import Repository

Doc = dict[str, Any]
WIRE = "application-autoscaling"
POLICY_TYPES = ("StepScaling", "TargetTrackingScaling")
SUSPENDED = ("DynamicScalingInSuspended", "DynamicScalingOutSuspended", "ScheduledScalingSuspended")


class InvalidNextToken(GreenfleetError):
    code = "InvalidNextTokenException"


def _no_target(key: Key) -> ObjectNotFound:
    return ObjectNotFound(f"No scalable target registered for service namespace: {key[0]}, resource ID: {key[1]}, "
                          f"scalable dimension: {key[2]}")


class AlarmPort:
    """What the service needs of the alarm service: put and delete alarms (the owned alarms of a policy)."""

    def __init__(self, put: Callable[[Doc], Doc], delete: Callable[[list[str]], object]) -> None:
        self.put, self.delete = put, delete


class ScalingService:
    def __init__(self, repo: ScalingRepository, store: Repository, arns: ScalingArns, clock: Clock, alarms: AlarmPort,
                 *, default_cooldown_s: float = 300.0, shape: AlarmShape | None = None,
                 max_per_variant: int | None = None) -> None:
        self.repo, self.store, self.arns, self.clock, self.alarms = repo, store, arns, clock, alarms
        self.default_cooldown_s = default_cooldown_s
        self.shape = shape or AlarmShape()
        self.max_per_variant = max_per_variant
        self.changed: Callable[[], None] = lambda: None

    # --- scalable targets ----------------------------------------------------------------------
    def register_scalable_target(self, params: Doc) -> Doc:
        validate_input(WIRE, "RegisterScalableTarget", params)
        key = (params["ServiceNamespace"], params["ResourceId"], params["ScalableDimension"])
        endpoint, variant = check_target_keys(*key)
        asynchronous = self._check_variant(endpoint, variant)
        existing = self.repo.get_target(key)
        low = params.get("MinCapacity", existing["min_capacity"] if existing else None)
        high = params.get("MaxCapacity", existing["max_capacity"] if existing else None)
        if low is None or high is None:
            raise ValidationError("MinCapacity and MaxCapacity are required when registering a new scalable target")
        if low < 0:
            raise ValidationError("MinCapacity must not be negative")
        if low == 0 and not asynchronous:
            raise ValidationError(f"MinCapacity 0 is allowed only for a variant of an asynchronous endpoint (one whose "
                                  f"endpoint configuration has an AsyncInferenceConfig); the variant {variant} of "
                                  f"endpoint {endpoint} serves real-time requests: MinCapacity must be at least 1")
        if high < 1:
            raise ValidationError("MaxCapacity must be at least 1")
        if low > high:
            raise ValidationError(f"Minimum capacity ({low}) cannot be greater than maximum capacity ({high})")
        if self.max_per_variant is not None and high > self.max_per_variant:
            raise ValidationError(f"MaxCapacity {high} exceeds the server's instance ceiling per variant "
                                  f"({self.max_per_variant}, GREENFLEET_MAX_INSTANCES_PER_VARIANT)")
        suspended = {**(existing["suspended"] if existing else {}), **(params.get("SuspendedState") or {})}
        values: Doc = {"min_capacity": low, "max_capacity": high, "suspended": suspended}
        if params.get("RoleARN"):
            values["role_arn"] = params["RoleARN"]
        if existing is None:
            arn = self.arns.target()
            self.repo.insert_target({
                "namespace": key[0], "resource_id": key[1], "dimension": key[2], "arn": arn,
                "role_arn": self.arns.role(), **values, "created_at": self.clock.now(), "state": {}, "revision": 1})
        else:
            arn = existing["arn"]
            self.repo.update_target(key, values)
        self.changed()
        return {"ScalableTargetARN": arn}

    def _check_variant(self, endpoint: str, variant: str) -> bool:
        """Refuse a variant that cannot be scaled; whether it serves an asynchronous endpoint (it may then
        scale to zero on an empty backlog)."""
        row = self.store.get_endpoint(endpoint)
        if row is None or row["status"] == "Deleting":
            raise ValidationError(f"The endpoint {endpoint} does not exist (resource endpoint/{endpoint}/variant/"
                                  f"{variant}).")
        state: DesiredState = row["state"]
        found = state.current.variant(variant)
        if found is None:
            raise ValidationError(f"The variant {variant} does not exist in endpoint {endpoint}.")
        if found.serverless is not None:
            raise ValidationError(f"The variant {variant} of endpoint {endpoint} is serverless: its instances follow "
                                  "its requests; sagemaker:variant:DesiredInstanceCount cannot be scaled.")
        return state.current.asynchronous is not None

    def describe_scalable_targets(self, params: Doc) -> Doc:
        validate_input(WIRE, "DescribeScalableTargets", params)
        namespace = params["ServiceNamespace"]
        check_target_keys(namespace, "endpoint/x/variant/x", params.get("ScalableDimension"))
        wanted = set(params.get("ResourceIds") or [])
        rows = [r for r in self.repo.list_targets(namespace)
                if (not wanted or r["resource_id"] in wanted)
                and (params.get("ScalableDimension") is None or r["dimension"] == params["ScalableDimension"])]
        chunk, token = _page(rows, params)
        answer: Doc = {"ScalableTargets": [_target_doc(r) for r in chunk]}
        if token:
            answer["NextToken"] = token
        return answer

    def deregister_scalable_target(self, params: Doc) -> Doc:
        validate_input(WIRE, "DeregisterScalableTarget", params)
        key = (params["ServiceNamespace"], params["ResourceId"], params["ScalableDimension"])
        check_target_keys(*key)
        if self.repo.get_target(key) is None:
            raise _no_target(key)
        self.deregister(key)
        return {}

    def deregister(self, key: Key) -> None:
        """Delete a target, its policies and the alarms they own (also when its endpoint is deleted)."""
        for policy in self.repo.delete_target(key):
            self._delete_owned_alarms(policy)
        self.changed()

    # --- policies ------------------------------------------------------------------------------
    def put_scaling_policy(self, params: Doc) -> Doc:
        validate_input(WIRE, "PutScalingPolicy", params)
        key = (params["ServiceNamespace"], params["ResourceId"], params["ScalableDimension"])
        endpoint, variant = check_target_keys(*key)
        name = params["PolicyName"]
        if not name.isprintable():
            raise ValidationError("PolicyName must be printable characters")
        kind = params.get("PolicyType", "StepScaling")
        if kind not in POLICY_TYPES:
            raise ValidationError(f"Unsupported policy type {kind} for a SageMaker variant; use "
                                  f"{' or '.join(POLICY_TYPES)}")
        given = {"StepScaling": "StepScalingPolicyConfiguration",
                 "TargetTrackingScaling": "TargetTrackingScalingPolicyConfiguration"}
        for other_kind, member in {**given, "PredictiveScaling": "PredictiveScalingPolicyConfiguration"}.items():
            if other_kind != kind and params.get(member) is not None:
                raise ValidationError(f"{member} cannot be given for a policy of type {kind}")
        raw = params.get(given[kind])
        if raw is None:
            raise ValidationError(f"{given[kind]} is required for a policy of type {kind}")
        if self.repo.get_target(key) is None:
            raise _no_target(key)
        if kind == "StepScaling":
            config.step_scaling(raw, self.default_cooldown_s)
        else:
            tracking = config.target_tracking(raw, endpoint, variant, self.default_cooldown_s)
        existing = self.repo.get_policy(key, name)
        arn = existing["arn"] if existing else self.arns.policy(key[1], name)
        alarms: list[Doc] = []
        try:
            if kind == "TargetTrackingScaling":
                for body in alarm_bodies(arn, key[1], tracking, self.shape):
                    made = self.alarms.put(body)
                    alarms.append({"AlarmName": made["AlarmName"], "AlarmARN": made["AlarmArn"]})
            self.repo.put_policy({"arn": arn, "name": name, "namespace": key[0], "resource_id": key[1],
                                  "dimension": key[2], "policy_type": kind, "configuration": raw, "alarms": alarms,
                                  "created_at": self.clock.now()})
        except Exception:
            if alarms:
                self.alarms.delete([a["AlarmName"] for a in alarms])  # nothing half-written
            raise
        if existing is not None:
            self._delete_owned_alarms(existing)
        self.changed()
        answer: Doc = {"PolicyARN": arn}
        if alarms:
            answer["Alarms"] = alarms
        return answer

    def describe_scaling_policies(self, params: Doc) -> Doc:
        validate_input(WIRE, "DescribeScalingPolicies", params)
        namespace = params["ServiceNamespace"]
        if params.get("ResourceId") is not None:
            check_target_keys(namespace, params["ResourceId"], params.get("ScalableDimension"))
        else:
            check_target_keys(namespace, "endpoint/x/variant/x", params.get("ScalableDimension"))
        wanted = set(params.get("PolicyNames") or [])
        rows = [r for r in self.repo.list_policies(namespace, params.get("ResourceId"), params.get("ScalableDimension"))
                if not wanted or r["name"] in wanted]
        chunk, token = _page(rows, params)
        answer: Doc = {"ScalingPolicies": [policy_doc(r) for r in chunk]}
        if token:
            answer["NextToken"] = token
        return answer

    def delete_scaling_policy(self, params: Doc) -> Doc:
        validate_input(WIRE, "DeleteScalingPolicy", params)
        key = (params["ServiceNamespace"], params["ResourceId"], params["ScalableDimension"])
        check_target_keys(*key)
        policy = self.repo.get_policy(key, params["PolicyName"])
        if policy is None:
            raise ObjectNotFound(f"No scaling policy found for service namespace: {key[0]}, resource ID: {key[1]}, "
                                 f"scalable dimension: {key[2]}, policy name: {params['PolicyName']}")
        self.repo.delete_policy(key, params["PolicyName"])
        self._delete_owned_alarms(policy)
        self.changed()
        return {}

    def _delete_owned_alarms(self, policy: Doc) -> None:
        names = [a["AlarmName"] for a in policy.get("alarms") or []]
        if names:
            self.alarms.delete(names)

    # --- activities ----------------------------------------------------------------------------
    def describe_scaling_activities(self, params: Doc) -> Doc:
        validate_input(WIRE, "DescribeScalingActivities", params)
        namespace = params["ServiceNamespace"]
        resource = params.get("ResourceId")
        check_target_keys(namespace, resource or "endpoint/x/variant/x", params.get("ScalableDimension"))
        limit = int(params.get("MaxResults", 50))
        if not 1 <= limit <= 50:
            raise ValidationError("MaxResults must be between 1 and 50")
        before = None
        if params.get("NextToken"):
            try:
                before = decode_token(params["NextToken"])
            except ValidationError:
                raise InvalidNextToken("Invalid token") from None
        rows = self.repo.list_activities(namespace, resource, params.get("ScalableDimension"),
                                         bool(params.get("IncludeNotScaledActivities")), before, limit + 1)
        answer: Doc = {"ScalingActivities": [activity_doc(r) for r in rows[:limit]]}
        if len(rows) > limit:
            answer["NextToken"] = encode_token(rows[limit - 1]["seq"])
        return answer


def _page(rows: list[Doc], params: Doc) -> tuple[list[Doc], str | None]:
    limit = int(params.get("MaxResults", 50))
    if not 1 <= limit <= 50:
        raise ValidationError("MaxResults must be between 1 and 50")
    offset = 0
    if params.get("NextToken"):
        try:
            offset = decode_token(params["NextToken"])
        except ValidationError:
            raise InvalidNextToken("Invalid token") from None
    chunk = rows[offset:offset + limit]
    return chunk, encode_token(offset + limit) if offset + limit < len(rows) else None


def _target_doc(row: Doc) -> Doc:
    return {"ServiceNamespace": row["namespace"], "ResourceId": row["resource_id"],
            "ScalableDimension": row["dimension"], "MinCapacity": row["min_capacity"],
            "MaxCapacity": row["max_capacity"], "RoleARN": row["role_arn"], "CreationTime": row["created_at"],
            "SuspendedState": {k: bool(row["suspended"].get(k, False)) for k in SUSPENDED},
            "ScalableTargetARN": row["arn"]}


def policy_doc(row: Doc) -> Doc:
    member = ("TargetTrackingScalingPolicyConfiguration" if row["policy_type"] == "TargetTrackingScaling"
              else "StepScalingPolicyConfiguration")
    doc: Doc = {"PolicyARN": row["arn"], "PolicyName": row["name"], "ServiceNamespace": row["namespace"],
                "ResourceId": row["resource_id"], "ScalableDimension": row["dimension"],
                "PolicyType": row["policy_type"], member: row["configuration"], "CreationTime": row["created_at"]}
    if row["alarms"]:
        doc["Alarms"] = row["alarms"]
    return doc


def activity_doc(row: Doc) -> Doc:
    doc: Doc = {"ActivityId": row["activity_id"], "ServiceNamespace": row["namespace"],
                "ResourceId": row["resource_id"], "ScalableDimension": row["dimension"],
                "Description": row["description"], "Cause": row["cause"], "StartTime": row["start_time"],
                "StatusCode": row["status_code"]}
    if row["end_time"] is not None:
        doc["EndTime"] = row["end_time"]
    if row["status_message"]:
        doc["StatusMessage"] = row["status_message"]
    if row["not_scaled"]:
        doc["NotScaledReasons"] = row["not_scaled"]
    return doc


__all__ = ["NAMESPACE", "AlarmPort", "ScalingService", "activity_doc", "policy_doc"]
