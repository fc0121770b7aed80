"""An endpoint's DataCaptureConfig as the data plane uses it: immutable, hashable, built once per
routing table, never per request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from greenfleet.errors import ValidationError

INPUT, OUTPUT = "Input", "Output"


@dataclass(frozen=True, slots=True)
class CaptureSetting:
    """What to capture for one endpoint and where to write it."""

    destination: str
    """DestinationS3Uri: a local path, ``file://…`` or ``s3://bucket/prefix``."""
    sampling_percentage: int
    """InitialSamplingPercentage, 0 to 100."""
    capture_input: bool
    capture_output: bool
    csv_types: frozenset[str]
    """CaptureContentTypeHeader.CsvContentTypes: content types written as text with encoding CSV."""
    json_types: frozenset[str]
    """CaptureContentTypeHeader.JsonContentTypes: content types written as text with encoding JSON."""
    kms_key_id: str | None = None
    """KmsKeyId: S3 server-side encryption (SSE-KMS) of every captured object."""

    def encoding_of(self, content_type: str) -> str:
        """CSV, JSON or BASE64 for a request's or response's Content-Type (parameters ignored)."""
        bare = content_type.split(";", 1)[0].strip().lower()
        if bare in self.csv_types:
            return "CSV"
        if bare in self.json_types:
            return "JSON"
        return "BASE64"


def capture_setting(config: Mapping[str, Any] | None) -> CaptureSetting | None:
    """The setting for a stored DataCaptureConfig; None when there is none or capture is off."""
    if not config or not config.get("EnableCapture", True):
        return None
    modes = {option["CaptureMode"] for option in config.get("CaptureOptions") or []}
    header = config.get("CaptureContentTypeHeader") or {}
    return CaptureSetting(
        destination=str(config["DestinationS3Uri"]).rstrip("/"),
        sampling_percentage=int(config["InitialSamplingPercentage"]),
        capture_input=bool(modes & {INPUT, "InputAndOutput"}),
        capture_output=bool(modes & {OUTPUT, "InputAndOutput"}),
        csv_types=frozenset(t.lower() for t in header.get("CsvContentTypes") or []),
        json_types=frozenset(t.lower() for t in header.get("JsonContentTypes") or []),
        kms_key_id=config.get("KmsKeyId") or None,
    )


def check_capture_config(config: Mapping[str, Any], variants: Sequence[Mapping[str, Any]] = ()) -> None:
    """What CreateEndpointConfig refuses beyond the service model: a KMS key for a local destination
    (only S3 encrypts with one), a destination that is neither a path, ``file://`` nor ``s3://bucket``, and
    capture on serverless variants (SageMaker excludes it there too)."""
    serverless = [v["VariantName"] for v in variants if v.get("ServerlessConfig")]
    if serverless:
        raise ValidationError(f"DataCaptureConfig is not supported on serverless variants ({', '.join(serverless)})")
    destination = str(config.get("DestinationS3Uri", ""))
    scheme = destination.split("://", 1)[0] if "://" in destination else ""
    if scheme not in ("", "file", "s3"):
        raise ValidationError(f"DataCaptureConfig.DestinationS3Uri: '{destination}' is not a local path, "
                              "file:// or s3:// location")
    if scheme == "s3" and not destination[5:].split("/", 1)[0]:
        raise ValidationError(f"DataCaptureConfig.DestinationS3Uri: '{destination}' names no bucket")
    if config.get("KmsKeyId") and scheme != "s3":
        raise ValidationError("DataCaptureConfig.KmsKeyId: a KMS key encrypts captured data in S3 only; "
                              f"the destination '{destination}' is local")
