"""``greenfleet promote``'s I/O half, on the client side: copy one Approved version from a source
greenfleet server (dev, test) to a target (test, prod), the multi-account pattern of SageMaker's model
registry without a shared account.

1. The source describes the version (refused unless Approved), its evidence and its group.
2. The target is asked for the copy it may already hold (the manifest alone): a repeated promotion is
   answered there, without moving the artifact again.
3. Its kept model.tar.gz is downloaded and its sha256 checked against the digest the source registry
   recorded at registration; a mismatch stops here, before anything is sent to the target.
4. The target receives the manifest and the bytes in one request, checks the digest again on arrival,
   and writes the copy PendingManualApproval with its provenance (``greenfleet.registry.imports``).

Usable from Python::

    with Client(dev_url) as dev, Client(prod_url) as prod:
        promote(dev, prod, "churn/3", by="ci")["ModelPackageArn"]
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from greenfleet.clienterrors import ApiError, ClientError

if TYPE_CHECKING:
    from greenfleet.client import Client

Doc = dict[str, Any]
CARRIED_EVIDENCE = ("Check", "Status", "Detail", "Url", "By", "Time")


class PromotionRefused(ClientError):
    """The version cannot be promoted; the message says why. Nothing was written on the target."""


def promote(source: Client, target: Client, group_version: str, by: str, target_group: str | None = None) -> Doc:
    """Copy ``group_version`` (``GROUP/N`` or its ARN) from ``source`` to ``target``; returns
    ``{"ModelPackageArn": <the copy>, "SourceModelPackageArn", "ArtifactDigest", "Created"}`` (Created is
    False when the target already held the copy: promoting twice makes one version). Every refusal is a
    :class:`PromotionRefused` naming the server that refused (source or target) and why."""
    try:
        return _promote(source, target, group_version, by, target_group)
    except PromotionRefused:
        raise
    except ClientError as exc:  # the target's own errors are named inside
        raise PromotionRefused(f"source {source.base_url}: {exc}") from exc


def _promote(source: Client, target: Client, group_version: str, by: str, target_group: str | None) -> Doc:
    described = source.describe_model_package(ModelPackageName=group_version)
    arn = described["ModelPackageArn"]
    if described["ModelApprovalStatus"] != "Approved":
        raise PromotionRefused(f"{arn} on {source.base_url} has ModelApprovalStatus "
                               f"{described['ModelApprovalStatus']}; only an Approved version is promoted")
    recorded = (described.get("GreenfleetArtifact") or {}).get("Sha256")
    if not recorded:
        raise PromotionRefused(f"{arn} on {source.base_url} has no kept artifact to promote "
                               "(it was registered without ModelDataUrl)")
    found = source.list_model_package_evidence(ModelPackageName=arn)["Evidence"]
    group = source.describe_model_package_group(ModelPackageGroupName=described["ModelPackageGroupName"])
    manifest: Doc = {"SourceUrl": source.base_url, "SourceModelPackage": described, "ArtifactSha256": recorded,
                     "Evidence": [{k: e[k] for k in CARRIED_EVIDENCE if e.get(k) is not None} for e in found]}
    if group.get("ModelPackageGroupDescription"):
        manifest["SourceGroupDescription"] = group["ModelPackageGroupDescription"]
    if target_group:
        manifest["ModelPackageGroupName"] = target_group
    try:
        return target.import_model_package(Manifest=manifest, by=by)  # the copy already made, if any
    except ApiError as exc:
        older = exc.code == "ValidationException" and "holds no model.tar.gz" in exc.message  # a target before
        if exc.code != "ResourceNotFound" and not older:  # the manifest-only request: send the bytes as to it
            raise PromotionRefused(f"target {target.base_url}: {exc}") from exc
    except ClientError as exc:
        raise PromotionRefused(f"target {target.base_url}: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="greenfleet-promote-") as tmp:
        archive = Path(tmp) / "model.tar.gz"
        received = source.get_model_package_artifact(ModelPackageName=arn, Destination=archive)
        if received["ReceivedSha256"] != recorded:
            raise PromotionRefused(f"artifact digest mismatch: {source.base_url} served {arn}'s model.tar.gz with "
                                   f"sha256 {received['ReceivedSha256']}, but its registry recorded {recorded} "
                                   "(the source's artifact store changed); nothing was sent to the target")
        try:
            answer = target.import_model_package(Manifest=manifest, Artifact=archive, by=by)
        except ClientError as exc:
            raise PromotionRefused(f"target {target.base_url}: {exc}") from exc
    return answer
