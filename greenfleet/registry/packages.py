"""The registry's SageMaker operations: model package groups and versioned model packages.

Registration copies the model data into the artifact store and reads every metrics report before
anything is written; the version row, its "created" audit entry and its state-change event are then
written in one transaction, so a failed registration leaves nothing behind. Approval changes are
recorded with who, why and when, and announced as "SageMaker Model Package State Change"."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from greenfleet.clock import Clock
from greenfleet.errors import ConflictError, ValidationError
from greenfleet.metrics.timestamps import parse_time
from greenfleet.registry import documents, evaluation, eventshapes
from greenfleet.registry.artifacts import ArtifactStore
from greenfleet.registry.caller import caller
from greenfleet.registry.names import RegistryArns, check_entity_name, group_name_of, parse_version_ref
from greenfleet.registry.repository import RegistryRepository
from greenfleet.resources.servicemodel import validate_input
from greenfleet.services.listing import decode_token, encode_token

Doc = dict[str, Any]
APPROVED, REJECTED, PENDING = "Approved", "Rejected", "PendingManualApproval"
REFUSED_MEMBERS = {
    "ValidationSpecification": "model package validation jobs are not run by greenfleet",
    "SourceAlgorithmSpecification": "algorithm resources are not supported",
    "AdditionalInferenceSpecifications": "only the one InferenceSpecification is served",
    "SecurityConfig": "KMS encryption of registry content is not supported",
    "ManagedStorageType": "managed storage is not supported",
    "Tags": "versioned model packages cannot have tags; tag the model package group",
}
UPDATE_REFUSED = ("AdditionalInferenceSpecificationsToAdd", "InferenceSpecification", "ModelPackageRegistrationType")
CONTAINER_REFUSED = ("ModelDataSource", "AdditionalModelDataSources", "AdditionalS3DataSource", "ProductId",
                     "ModelInput", "BaseModel", "IsCheckpoint")
KEPT_UPDATE_TOKENS = 20


class EventAppender(Protocol):
    def append(self, source: str, detail_type: str, resource: str | None, detail: Any, now: float, *,
               connection: Connection | None = None) -> Any: ...

    def wake(self) -> None: ...


class RegistryService:
    def __init__(self, repo: RegistryRepository, arns: RegistryArns, clock: Clock, events: EventAppender,
                 artifacts: ArtifactStore, s3_endpoint_url: str | None = None) -> None:
        self.repo, self.arns, self.clock, self.events = repo, arns, clock, events
        self.artifacts, self.s3_endpoint_url = artifacts, s3_endpoint_url
        self.live_on: Callable[[str, int], list[str]] = lambda _group, _version: []  # set by the bindings
        self.approval_gate: Callable[[str | None], None] = lambda _arn: None  # set by the evidence (evidence.py)

    # --- groups ----------------------------------------------------------------------------------
    def create_model_package_group(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateModelPackageGroup", params)
        name = check_entity_name(params["ModelPackageGroupName"], "modelPackageGroupName")
        for member in ("ManagedConfiguration", "Tags"):
            if params.get(member):
                raise ValidationError(f"{member}: not supported on model package groups by greenfleet")
        arn = self.arns.group(name)
        self.repo.insert_group({"name": name, "arn": arn, "description": params.get("ModelPackageGroupDescription"),
                                "status": "Completed", "created_at": self.clock.now(), "created_by": caller(),
                                "next_version": self.repo.last_version_ever(name) + 1})
        return {"ModelPackageGroupArn": arn}

    def group(self, name_or_arn: str) -> Doc:
        row = self.repo.get_group(group_name_of(name_or_arn))
        if row is None:
            raise ValidationError(f"ModelPackageGroup {name_or_arn} does not exist.")
        return row

    def describe_model_package_group(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DescribeModelPackageGroup", params)
        return documents.describe_group(self.group(params["ModelPackageGroupName"]))

    def list_model_package_groups(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListModelPackageGroups", params)
        if params.get("CrossAccountFilterOption") == "CrossAccount":
            return {"ModelPackageGroupSummaryList": []}
        rows = self.repo.list_groups()
        contains = (params.get("NameContains") or "").lower()
        rows = [r for r in rows if contains in r["name"].lower()
                and (params.get("CreationTimeAfter") is None or r["created_at"] > float(params["CreationTimeAfter"]))
                and (params.get("CreationTimeBefore") is None or r["created_at"] < float(params["CreationTimeBefore"]))]
        by_name = params.get("SortBy", "CreationTime") == "Name"
        rows.sort(key=lambda r: r["name"] if by_name else r["created_at"],
                  reverse=params.get("SortOrder", "Descending") == "Descending")
        offset = decode_token(params["NextToken"]) if params.get("NextToken") else 0
        limit = int(params.get("MaxResults", 10))
        result: Doc = {"ModelPackageGroupSummaryList": [documents.group_summary(r)
                                                        for r in rows[offset:offset + limit]]}
        if offset + limit < len(rows):
            result["NextToken"] = encode_token(offset + limit)
        return result

    def delete_model_package_group(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteModelPackageGroup", params)
        self.repo.delete_group(self.group(params["ModelPackageGroupName"])["name"])
        return {}

    # --- versions --------------------------------------------------------------------------------
    def create_model_package(self, params: Doc) -> Doc:
        validate_input("sagemaker", "CreateModelPackage", params)
        if params.get("ModelPackageName") and params.get("ModelPackageGroupName"):
            raise ValidationError("Both ModelPackageName and ModelPackageGroupName are provided in the input. "
                                  "Give ModelPackageGroupName for a versioned model package.")
        if not params.get("ModelPackageGroupName"):
            raise ValidationError("ModelPackageGroupName is required: greenfleet holds versioned model packages "
                                  "only (unversioned ModelPackageName is not supported)")
        group = self.group(params["ModelPackageGroupName"])
        token = params.get("ClientToken")
        if token:
            existing = self.repo.find_by_token(group["name"], token)
            if existing is not None:
                return {"ModelPackageArn": existing["arn"]}
        spec = self._registration(params)
        now, who = self.clock.now(), caller()
        approval = params.get("ModelApprovalStatus", PENDING)
        if approval == APPROVED:
            self.approval_gate(None)

        def write(tx: Connection) -> Doc:
            version = self.repo.next_version(tx, group["name"])
            arn = self.arns.version(group["name"], version)
            row = {"arn": arn, "group_name": group["name"], "version": version,
                   "description": params.get("ModelPackageDescription"), "status": "Completed",
                   "approval_status": approval, "registration_type": params.get("ModelPackageRegistrationType"),
                   "client_token": token, "created_at": now, "modified_at": now,
                   "spec": {**spec, "CreatedBy": documents.user(who), "LastModifiedBy": documents.user(who)}}
            self.repo.insert_package(tx, row)
            self.repo.add_history(tx, {"package_arn": arn, "group_name": group["name"], "version": version,
                                       "at": now, "kind": "created", "from_status": None, "to_status": approval,
                                       "by": who, "reason": params.get("ApprovalDescription"),
                                       "detail": {"Sha256": (spec.get("GreenfleetArtifact") or {}).get("Sha256")}})
            self._announce(tx, row, now)
            return row

        try:
            with self.repo.transaction() as tx:
                row = write(tx)
        except IntegrityError:
            raced = self.repo.find_by_token(group["name"], token) if token else None
            if raced is None:
                raise
            return {"ModelPackageArn": raced["arn"]}  # a concurrent request with the same ClientToken won
        self.events.wake()
        return {"ModelPackageArn": row["arn"]}

    def _registration(self, params: Doc) -> Doc:
        """The stored document: the request, its artifact kept, its metrics read (no write yet)."""
        for member, why in REFUSED_MEMBERS.items():
            if params.get(member):
                raise ValidationError(f"{member}: {why}")
        if params.get("CertifyForMarketplace"):
            raise ValidationError("CertifyForMarketplace: AWS Marketplace does not apply to greenfleet")
        inference = params.get("InferenceSpecification")
        if not inference:
            raise ValidationError("InferenceSpecification is required: greenfleet serves registered versions")
        containers = inference["Containers"]
        if len(containers) != 1:
            raise ValidationError(f"InferenceSpecification.Containers: exactly one container is served by "
                                  f"greenfleet, got {len(containers)}")
        container = containers[0]
        for member in CONTAINER_REFUSED:
            if container.get(member) is not None:
                raise ValidationError(f"InferenceSpecification.Containers.1.{member}: not supported; give ModelDataUrl")
        if not container.get("Image"):
            raise ValidationError("InferenceSpecification.Containers.1.Image: an image is required")
        spec = {k: copy.deepcopy(v) for k, v in params.items() if k not in ("ModelApprovalStatus",)}
        if container.get("ModelDataUrl"):
            kept = self.artifacts.keep(str(container["ModelDataUrl"]),
                                       label="InferenceSpecification.Containers.1.ModelDataUrl")
            spec["GreenfleetArtifact"] = kept.to_dict()
        if params.get("ModelMetrics"):
            reports = evaluation.read_all(params["ModelMetrics"], self.artifacts.root / "staging",
                                          self.s3_endpoint_url)
            spec["GreenfleetMetrics"] = reports
            for where, source in evaluation.sources(spec["ModelMetrics"]):
                source.setdefault("ContentDigest", reports[where]["ContentDigest"])
        return spec

    def _announce(self, tx: Connection, row: Doc, now: float) -> None:
        detail = eventshapes.package_detail(documents.describe_package(row))
        self.events.append(eventshapes.SOURCE, eventshapes.PACKAGE_STATE_CHANGE, row["arn"], detail, now,
                           connection=tx)

    def package(self, name: str, member: str = "ModelPackageName") -> Doc:
        ref = parse_version_ref(name, member)
        if ref.arn is not None:
            row = self.repo.get_package(ref.arn)
        else:
            assert ref.group is not None and ref.version is not None
            group = self.repo.get_group(group_name_of(ref.group))
            row = self.repo.get_version(group["name"], ref.version) if group else None
        if row is None:
            deleted = self._deleted(name, ref.arn)
            raise ValidationError(f"ModelPackage {name} does not exist." + deleted)
        return row

    def _deleted(self, name: str, arn: str | None) -> str:
        if arn is None:
            return ""
        gone = self.repo.history(arn=arn, kinds=("deleted",))
        return f" It was deleted by {gone[-1]['by']}." if gone else ""

    def describe_model_package(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DescribeModelPackage", params)
        row = self.package(params["ModelPackageName"])
        described = documents.describe_package(row, metadata_only=params.get("IncludedData") == "MetadataOnly")
        outcomes = self.repo.history(arn=row["arn"], kinds=("deployment",))
        if outcomes:
            described["GreenfleetDeployments"] = [documents.history_entry(h) for h in outcomes]
        return described

    def list_model_packages(self, params: Doc) -> Doc:
        validate_input("sagemaker", "ListModelPackages", params)
        group = self.group(params["ModelPackageGroupName"])["name"] if params.get("ModelPackageGroupName") else None
        kind = params.get("ModelPackageType", "Versioned" if group else "Unversioned")
        if kind == "Unversioned":  # greenfleet holds versioned packages only
            return {"ModelPackageSummaryList": []}
        sort_by = params.get("SortBy", "CreationTime")
        limit = int(params.get("MaxResults", 10))
        rows = self.repo.list_packages(
            group=group, approval=params.get("ModelApprovalStatus"), contains=params.get("NameContains"),
            after=_time(params.get("CreationTimeAfter")), before=_time(params.get("CreationTimeBefore")),
            sort_by=sort_by, descending=params.get("SortOrder") != "Ascending",
            start_after=_position(params["NextToken"]) if params.get("NextToken") else None, limit=limit)
        result: Doc = {"ModelPackageSummaryList": [documents.package_summary(r) for r in rows[:limit]]}
        if len(rows) > limit:
            last = rows[limit - 1]
            result["NextToken"] = _token(last["group_name"] if sort_by == "Name" else last["created_at"],
                                         last["version"])
        return result

    def update_model_package(self, params: Doc) -> Doc:
        validate_input("sagemaker", "UpdateModelPackage", params)
        arn = params["ModelPackageArn"]
        if not arn.startswith("arn:"):
            raise ValidationError(f"ModelPackageArn: '{arn}' is not an ARN (UpdateModelPackage takes an ARN)")
        for member in UPDATE_REFUSED:
            if params.get(member):
                raise ValidationError(f"{member}: not supported by greenfleet's UpdateModelPackage")
        now, who = self.clock.now(), caller()
        with self.repo.transaction() as tx:
            row = self.package(arn, "ModelPackageArn")
            spec = copy.deepcopy(row["spec"])
            token = params.get("ClientToken")
            if token and token in spec.get("_UpdateTokens", []):
                return {"ModelPackageArn": row["arn"]}
            self._merge(row, spec, params)
            if token:
                spec["_UpdateTokens"] = [*spec.get("_UpdateTokens", []), token][-KEPT_UPDATE_TOKENS:]
            spec["LastModifiedBy"] = documents.user(who)
            status = params.get("ModelApprovalStatus", row["approval_status"])
            if status == APPROVED and row["approval_status"] != APPROVED:
                self.approval_gate(row["arn"])
            updated = {**row, "spec": spec, "approval_status": status, "modified_at": now}
            self.repo.update_package(tx, row["arn"], {"spec": spec, "approval_status": status, "modified_at": now})
            if status != row["approval_status"]:
                self.repo.add_history(tx, {"package_arn": row["arn"], "group_name": row["group_name"],
                                           "version": row["version"], "at": now, "kind": "approval",
                                           "from_status": row["approval_status"], "to_status": status, "by": who,
                                           "reason": params.get("ApprovalDescription"), "detail": None})
                self._announce(tx, updated, now)
        self.events.wake()
        return {"ModelPackageArn": row["arn"]}

    @staticmethod
    def _merge(row: Doc, spec: Doc, params: Doc) -> None:
        if "ApprovalDescription" in params:
            spec["ApprovalDescription"] = params["ApprovalDescription"]
        elif params.get("ModelApprovalStatus") not in (None, row["approval_status"]):
            spec.pop("ApprovalDescription", None)  # a new decision without a reason keeps no stale reason
        custom = dict(spec.get("CustomerMetadataProperties") or {})
        custom.update(params.get("CustomerMetadataProperties") or {})
        for key in params.get("CustomerMetadataPropertiesToRemove") or []:
            custom.pop(key, None)
        if custom:
            spec["CustomerMetadataProperties"] = custom
        else:
            spec.pop("CustomerMetadataProperties", None)
        for member in ("SourceUri", "ModelCard", "ModelLifeCycle"):
            if params.get(member) is not None:
                spec[member] = params[member]

    def delete_model_package(self, params: Doc) -> Doc:
        validate_input("sagemaker", "DeleteModelPackage", params)
        row = self.package(params["ModelPackageName"])
        live_on = self.live_on(row["group_name"], row["version"])
        if live_on:
            raise ConflictError(f"ModelPackage {row['arn']} is live on endpoint(s) {', '.join(live_on)}; "
                                "reject it (the binding redeploys another version) before deleting it")
        now = self.clock.now()
        with self.repo.transaction() as tx:
            self.repo.delete_package(tx, row["arn"])
            self.repo.add_history(tx, {"package_arn": row["arn"], "group_name": row["group_name"],
                                       "version": row["version"], "at": now, "kind": "deleted",
                                       "from_status": row["approval_status"], "to_status": None, "by": caller(),
                                       "reason": None, "detail": None})
        return {}


def _token(key: Any, version: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": key, "v": version}).encode()).decode()


def _position(token: str) -> tuple[Any, int]:
    """The sort key a NextToken of ListModelPackages resumes after."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        key, version = decoded["k"], decoded["v"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationError(f"Invalid NextToken '{token}'") from exc
    if not isinstance(key, str | int | float) or not isinstance(version, int):
        raise ValidationError(f"Invalid NextToken '{token}'")
    return key, version


def _time(value: Any) -> float | None:
    return None if value is None else parse_time(value, "CreationTime")


def served_container(service: RegistryService, given: Doc, where: str) -> Doc:
    """CreateModel's ``Containers[].ModelPackageName``: the container to run, made from the version's
    kept artifact. Only an Approved version can be deployed."""
    for member in ("Image", "ModelDataUrl", "ModelDataSource", "InferenceSpecificationName"):
        if given.get(member):
            raise ValidationError(f"{where}.{member}: not allowed with ModelPackageName (the model package "
                                  "supplies the image and the model data)")
    row = service.package(str(given["ModelPackageName"]), f"{where}.ModelPackageName")
    if row["approval_status"] != APPROVED:
        raise ValidationError(f"{where}.ModelPackageName: model package {row['arn']} has ModelApprovalStatus "
                              f"{row['approval_status']}; only an Approved version can be deployed")
    source = row["spec"]["InferenceSpecification"]["Containers"][0]
    container: Doc = {**{k: v for k, v in given.items() if k != "ModelPackageName"}, "Image": source["Image"],
                      "ModelPackageName": row["arn"]}
    artifact = row["spec"].get("GreenfleetArtifact")
    if artifact:
        service.artifacts.verify(artifact)
        container["ModelDataUrl"] = artifact["Uri"]
    environment = {**(source.get("Environment") or {}), **(given.get("Environment") or {})}
    if environment:
        container["Environment"] = environment
    return container
