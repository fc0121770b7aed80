"""Promotion from dev to prod: CONTRACT-18's ``promote(source, target, group_version, by)``.

STAND-IN until the ``promote`` branch lands (greenfleet.registry's promote replaces it): it registers the source
version's artifact on the target, PendingManualApproval, with where it came from."""

from __future__ import annotations

from typing import Any

from greenfleet import Client

__all__ = ["promote"]


def promote(source: Client, target: Client, group_version: str, by: str) -> dict[str, Any]:
    described = source.describe_model_package(ModelPackageName=group_version)
    artifact = described["GreenfleetArtifact"]
    container = described["InferenceSpecification"]["Containers"][0]
    answer = target.create_model_package(
        by=by, ModelPackageGroupName=described["ModelPackageGroupName"],
        ModelPackageDescription=described.get("ModelPackageDescription", ""),
        InferenceSpecification={**described["InferenceSpecification"],
                                "Containers": [{"Image": container["Image"], "ModelDataUrl": artifact["Uri"]}]},
        ModelApprovalStatus="PendingManualApproval",
        MetadataProperties=described.get("MetadataProperties") or {},
        CustomerMetadataProperties={**(described.get("CustomerMetadataProperties") or {}),
                                    "greenfleet:promoted-from-url": source.base_url,
                                    "greenfleet:promoted-from-arn": described["ModelPackageArn"],
                                    "greenfleet:promoted-from-digest": artifact["Sha256"]})
    return {"ModelPackageArn": answer["ModelPackageArn"], "SourceModelPackageArn": described["ModelPackageArn"],
            "ArtifactDigest": artifact["Sha256"]}
