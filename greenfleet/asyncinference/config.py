"""AsyncInferenceConfig at CreateEndpointConfig: SageMaker's ranges, and every member that would do nothing
refused (KmsKeyId; a notification topic no webhook URL is mapped to)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from greenfleet.asyncinference.locations import LocationError, Locations
from greenfleet.errors import ValidationError
from greenfleet.resources.endpoint_state import AsyncConfig

DEFAULT_CONCURRENCY = 4
"""MaxConcurrentInvocationsPerInstance when the config leaves it unset (SageMaker: "the service chooses")."""
RESPONSE_IN = ("SUCCESS_NOTIFICATION_TOPIC", "ERROR_NOTIFICATION_TOPIC")


def parse_async_config(config: Mapping[str, Any], locations: Locations | None,
                       webhooks: Mapping[str, str]) -> AsyncConfig:
    if locations is None:
        raise ValidationError("AsyncInferenceConfig: this server runs no asynchronous inference dispatcher")
    client = config.get("ClientConfig") or {}
    concurrency = client.get("MaxConcurrentInvocationsPerInstance", DEFAULT_CONCURRENCY)
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 1000:
        raise ValidationError(f"Value '{concurrency}' at 'asyncInferenceConfig.clientConfig."
                              "maxConcurrentInvocationsPerInstance' failed to satisfy constraint: Member must have "
                              "value between 1 and 1000")
    output = config.get("OutputConfig") or {}
    if output.get("KmsKeyId"):
        raise ValidationError("AsyncInferenceConfig.OutputConfig.KmsKeyId: greenfleet does not encrypt outputs "
                              "with KMS keys; remove it")
    if not output.get("S3OutputPath"):
        raise ValidationError("AsyncInferenceConfig.OutputConfig.S3OutputPath: an output path is required")
    try:
        for field in ("S3OutputPath", "S3FailurePath"):
            if output.get(field):
                locations.check_url(output[field], f"AsyncInferenceConfig.OutputConfig.{field}")
                locations.check_writable(output[field], f"AsyncInferenceConfig.OutputConfig.{field}")
    except LocationError as exc:
        raise ValidationError(str(exc)) from exc
    notification = output.get("NotificationConfig") or None
    if notification:
        for topic in ("SuccessTopic", "ErrorTopic"):
            arn = notification.get(topic)
            if arn and arn not in webhooks:
                raise ValidationError(f"AsyncInferenceConfig.OutputConfig.NotificationConfig.{topic}: '{arn}' has "
                                      "no webhook URL on this server (map it in GREENFLEET_ALARM_ACTION_WEBHOOKS)")
        for item in notification.get("IncludeInferenceResponseIn") or []:
            if item not in RESPONSE_IN:
                raise ValidationError(f"Value '{item}' at 'asyncInferenceConfig.outputConfig.notificationConfig."
                                      "includeInferenceResponseIn' failed to satisfy constraint: Member must "
                                      f"satisfy enum value set: [{', '.join(RESPONSE_IN)}]")
    return AsyncConfig(max_concurrent=concurrency, output_path=output["S3OutputPath"],
                       failure_path=output.get("S3FailurePath"), notification=notification)


def stored_async_config(config: Mapping[str, Any] | None) -> AsyncConfig | None:
    """The AsyncConfig of a stored (already checked) endpoint config's AsyncInferenceConfig."""
    if not config:
        return None
    output = config.get("OutputConfig") or {}
    return AsyncConfig(
        max_concurrent=(config.get("ClientConfig") or {}).get("MaxConcurrentInvocationsPerInstance",
                                                               DEFAULT_CONCURRENCY),
        output_path=output["S3OutputPath"], failure_path=output.get("S3FailurePath"),
        notification=output.get("NotificationConfig") or None)
