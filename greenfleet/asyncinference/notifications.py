"""The notification a finished asynchronous request sends to its SuccessTopic or ErrorTopic: SageMaker's
message (sgdocs:async-inference-check-predictions.md), delivered as a webhook to the URL the topic's ARN is
mapped to (GREENFLEET_ALARM_ACTION_WEBHOOKS), through the event service's durable outbox; a delivery that
fails for good (after the outbox's retries) counts in its variant's ``NotificationFailures``."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from greenfleet.asyncinference.queue import Request
from greenfleet.asyncinference.variant_metrics import AsyncVariantMetrics
from greenfleet.clock import Clock
from greenfleet.metrics.timestamps import iso

KIND = "async_notification"
"""The outbox's kind for these deliveries; their context holds ``endpoint``, ``variant``, ``inferenceId``."""


class NotificationFailures:
    """The outbox's listener: counts each notification delivery that failed for good under its variant."""

    def __init__(self, metrics: AsyncVariantMetrics, clock: Clock) -> None:
        self.metrics = metrics
        self.clock = clock

    def __call__(self, delivery: Mapping[str, Any]) -> None:
        context = delivery.get("Context") or {}
        if delivery.get("Kind") != KIND or delivery.get("Status") != "failed" or not context.get("variant"):
            return
        self.metrics.count(str(context["endpoint"]), str(context["variant"]), "NotificationFailures",
                           self.clock.now())


def message(request: Request, region: str, now: float, content_type: str | None, failure: str | None,
            response: bytes | None) -> dict[str, Any]:
    parameters: dict[str, Any] = {"endpointName": request.endpoint_name}
    if request.input_location:
        parameters["inputLocation"] = request.input_location
    if request.content_type:
        parameters["contentType"] = request.content_type
    body: dict[str, Any] = {
        "awsRegion": region, "eventTime": iso(now), "receivedTime": iso(request.created_at),
        "invocationStatus": "Failed" if failure else "Completed", "requestParameters": parameters,
        "inferenceId": request.inference_id, "eventVersion": "1.0", "eventSource": "aws:sagemaker",
        "eventName": "InferenceResult",
    }
    if failure:
        body["failureReason"] = failure
        body["responseParameters"] = {"failureLocation": request.failure_location}
    else:
        answer: dict[str, Any] = {"outputLocation": request.output_location}
        if content_type:
            answer["contentType"] = content_type
        if response is not None:
            try:
                answer["inferenceResponse"] = response.decode("utf-8")
            except UnicodeDecodeError:
                answer["inferenceResponseBase64"] = base64.b64encode(response).decode()
        body["responseParameters"] = answer
    return body
