"""The target's half of a promotion (``greenfleet promote``): one request brings a version Approved on
another greenfleet server, its kept model.tar.gz and a manifest (the source's DescribeModelPackage, its
evidence, where it came from). The bytes are checked against the digest the source's registry recorded
before anything is kept; then the group (when missing), the version (PendingManualApproval), its
"created" audit entry carrying the provenance, its evidence entries and its state-change event are
written in one transaction, so a refused promotion leaves nothing on the target.

Promoting the same source version (same source server, ARN and digest) again returns the copy already
made: its ClientToken is derived from those three."""

from __future__ import annotations

import copy
import re
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from greenfleet.artifacts import ArtifactError
from greenfleet.errors import ValidationError
from greenfleet.registry import evidence
from greenfleet.registry.caller import caller
from greenfleet.registry.documents import user
from greenfleet.registry.names import check_entity_name
from greenfleet.registry.packages import APPROVED, PENDING, REFUSED_MEMBERS, RegistryService
from greenfleet.registry.tables import model_package_groups
from greenfleet.resources.servicemodel import validate_input

Doc = dict[str, Any]
SHA256 = re.compile(r"[0-9a-f]{64}")
PROVENANCE = "greenfleet:promoted-from-"
"""CustomerMetadataProperties keys of the provenance (boto3's DescribeModelPackage shows them)."""
NOT_CARRIED = {"ModelPackageGroupName", "ModelPackageName", "ModelApprovalStatus", "ApprovalDescription",
               "ClientToken", "Tags", "CertifyForMarketplace", *REFUSED_MEMBERS}
"""Members of CreateModelPackage a promotion does not copy: the target decides these."""
MANIFEST_MEMBERS = {"SourceUrl", "SourceModelPackage", "SourceGroupDescription", "Evidence", "ArtifactSha256",
                    "ModelPackageGroupName"}


class _GroupRaced(Exception):
    """The group this promotion was creating was created by another request meanwhile."""


def promotion_token(source_url: str, source_arn: str, sha256: str) -> str:
    """The ClientToken of the copy of one source version (36 characters, like SageMaker's)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"greenfleet-promotion:{source_url.rstrip('/')}|{source_arn}|{sha256}"))


class PromotionImporter:
    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry

    def check(self, manifest: Any) -> Doc:
        """The manifest, validated before a byte of the artifact is kept."""
        if not isinstance(manifest, dict):
            raise ValidationError("The promotion manifest must be a JSON object")
        unknown = set(manifest) - MANIFEST_MEMBERS
        if unknown:
            raise ValidationError(f"Unknown promotion manifest member(s): {', '.join(sorted(unknown))}")
        source = manifest.get("SourceModelPackage")
        if not isinstance(source, dict) or not isinstance(source.get("ModelPackageArn"), str):
            raise ValidationError("SourceModelPackage: the source's DescribeModelPackage answer is required")
        if source.get("ModelApprovalStatus") != APPROVED:
            raise ValidationError(f"SourceModelPackage: {source['ModelPackageArn']} has ModelApprovalStatus "
                                  f"{source.get('ModelApprovalStatus')}; only an Approved version is promoted")
        url = manifest.get("SourceUrl")
        if not isinstance(url, str) or not re.fullmatch(r"https?://[^\s]{1,1000}", url):
            raise ValidationError("SourceUrl: the source server's http(s) base URL is required")
        sha = manifest.get("ArtifactSha256")
        recorded = (source.get("GreenfleetArtifact") or {}).get("Sha256")
        if not isinstance(sha, str) or not SHA256.fullmatch(sha) or sha != recorded:
            raise ValidationError(f"ArtifactSha256: '{sha}' must be the sha256 the source registry recorded "
                                  f"for the version ({recorded})")
        group = manifest.get("ModelPackageGroupName") or source.get("ModelPackageGroupName")
        check_entity_name(str(group), "ModelPackageGroupName")
        found = manifest.get("Evidence") or []
        if not isinstance(found, list):
            raise ValidationError("Evidence: a list of the source's evidence entries")
        for item in found:
            if not isinstance(item, dict):
                raise ValidationError("Evidence: each entry is an object")
            evidence.checked({k: v for k, v in item.items() if k in ("Check", "Status", "Detail", "Url")})
        return {**manifest, "ModelPackageGroupName": group, "SourceUrl": url.rstrip("/"), "Evidence": found}

    def existing(self, manifest: Doc) -> Doc | None:
        """The copy already made of this source version, if any."""
        source = manifest["SourceModelPackage"]
        token = promotion_token(manifest["SourceUrl"], source["ModelPackageArn"], manifest["ArtifactSha256"])
        group = self.registry.repo.get_group(manifest["ModelPackageGroupName"])
        row = self.registry.repo.find_by_token(group["name"], token) if group else None
        return self._answer(row, manifest, created=False) if row else None

    def promote_in(self, manifest: Doc, archive: Path) -> Doc:
        """Keep ``archive`` (staged by the route) and write the copy; ``manifest`` passed :meth:`check`."""
        done = self.existing(manifest)
        if done is not None:
            return done
        source, sha, url = manifest["SourceModelPackage"], manifest["ArtifactSha256"], manifest["SourceUrl"]
        params = self._params(manifest)
        try:
            kept, placed = self.registry.artifacts.adopt(archive, sha, f"{url} {source['ModelPackageArn']}")
        except ArtifactError as exc:
            raise ValidationError(f"Artifact digest mismatch: {exc}") from exc
        try:
            try:
                return self._write(manifest, params, kept.to_dict())
            except _GroupRaced:  # another promotion created the group meanwhile: write into it
                return self._write(manifest, params, kept.to_dict())
        except BaseException:
            if placed:
                self.registry.artifacts.discard(kept)
            raise

    def _params(self, manifest: Doc) -> Doc:
        source, group = manifest["SourceModelPackage"], manifest["ModelPackageGroupName"]
        params: Doc = {k: copy.deepcopy(v) for k, v in source.items()
                       if k not in NOT_CARRIED and not k.startswith("Greenfleet")}
        from greenfleet.resources.servicemodel import operation_model

        members = set(operation_model("sagemaker", "CreateModelPackage").input_shape.members)
        params = {k: v for k, v in params.items() if k in members}
        provenance = {f"{PROVENANCE}url": manifest["SourceUrl"][:256], f"{PROVENANCE}arn": source["ModelPackageArn"],
                      f"{PROVENANCE}sha256": manifest["ArtifactSha256"]}
        params["CustomerMetadataProperties"] = {**(params.get("CustomerMetadataProperties") or {}), **provenance}
        params["ModelPackageGroupName"] = group
        validate_input("sagemaker", "CreateModelPackage", params)
        return params

    def _write(self, manifest: Doc, params: Doc, artifact: Doc) -> Doc:
        registry, source = self.registry, manifest["SourceModelPackage"]
        repo, group = registry.repo, manifest["ModelPackageGroupName"]
        now, who = registry.clock.now(), caller()
        token = promotion_token(manifest["SourceUrl"], source["ModelPackageArn"], manifest["ArtifactSha256"])
        promotion = {"SourceUrl": manifest["SourceUrl"], "SourceModelPackageArn": source["ModelPackageArn"],
                     "ArtifactSha256": manifest["ArtifactSha256"], "PromotedBy": who, "PromotedAt": now,
                     "SourceApproval": {k: source[k] for k in ("ApprovalDescription", "LastModifiedBy",
                                                               "LastModifiedTime") if k in source}}
        earlier = (source.get("GreenfleetPromotion") or {})
        if earlier:
            promotion["Earlier"] = [*earlier.get("Earlier", []), {k: v for k, v in earlier.items() if k != "Earlier"}]
        container = params["InferenceSpecification"]["Containers"][0]
        container["ModelDataUrl"] = artifact["Uri"]
        spec = {**params, "ClientToken": token, "GreenfleetArtifact": artifact, "GreenfleetPromotion": promotion,
                "CreatedBy": user(who), "LastModifiedBy": user(who)}
        if source.get("GreenfleetMetrics"):
            spec["GreenfleetMetrics"] = copy.deepcopy(source["GreenfleetMetrics"])
        try:
            with repo.transaction() as tx:
                existing = repo.get_group(group)
                if existing is None:
                    tx.execute(insert(model_package_groups).values(
                        name=group, arn=registry.arns.group(group), description=manifest.get("SourceGroupDescription"),
                        status="Completed", created_at=now, created_by=who,
                        next_version=repo.last_version_ever(group) + 1))
                else:
                    group = existing["name"]
                version = repo.next_version(tx, group)
                arn = registry.arns.version(group, version)
                row = {"arn": arn, "group_name": group, "version": version,
                       "description": params.get("ModelPackageDescription"), "status": "Completed",
                       "approval_status": PENDING, "registration_type": params.get("ModelPackageRegistrationType"),
                       "client_token": token, "created_at": now, "modified_at": now, "spec": spec}
                repo.insert_package(tx, row)
                repo.add_history(tx, {"package_arn": arn, "group_name": group, "version": version, "at": now,
                                      "kind": "created", "from_status": None, "to_status": PENDING, "by": who,
                                      "reason": f"promoted from {manifest['SourceUrl']} {source['ModelPackageArn']}",
                                      "detail": {"Sha256": artifact["Sha256"], "PromotedFrom": {
                                          k: promotion[k] for k in ("SourceUrl", "SourceModelPackageArn")}}})
                for item in manifest["Evidence"]:
                    record = evidence.checked({k: v for k, v in item.items()
                                               if k in ("Check", "Status", "Detail", "Url")})
                    record["PromotedFrom"] = {"SourceUrl": manifest["SourceUrl"],
                                              "SourceModelPackageArn": source["ModelPackageArn"],
                                              "By": item.get("By"), "Time": item.get("Time")}
                    repo.add_history(tx, evidence.history_row(row, record, now, str(item.get("By") or who)))
                registry._announce(tx, row, now)
        except IntegrityError as exc:
            raced = self.existing(manifest)
            if raced is not None:
                return raced  # a concurrent promotion of the same source version won
            if existing is None and repo.get_group(group) is not None:
                raise _GroupRaced from exc
            raise
        registry.events.wake()
        return self._answer(row, manifest, created=True)

    @staticmethod
    def _answer(row: Doc, manifest: Doc, created: bool) -> Doc:
        source = manifest["SourceModelPackage"]["ModelPackageArn"]
        return {"ModelPackageArn": row["arn"], "SourceModelPackageArn": source,
                "ArtifactDigest": manifest["ArtifactSha256"], "Created": created}
