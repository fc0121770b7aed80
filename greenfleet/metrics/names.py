"""The names SageMaker publishes: namespace, metrics, dimensions, units, and what each invocation outcome counts as.

Every invocation the router reports contributes one sample to each of Invocations, Invocation4XXErrors,
Invocation5XXErrors and InvocationModelErrors: 1 when the outcome counts as that error, else 0, so Sum is the
count and Average the rate (SageMaker's definition). ``OUTCOMES`` maps each outcome onto those samples:

    outcome           Invocations  4XXErrors  5XXErrors  ModelErrors  ModelLatency sample
    ok                     1           0          0           0        yes
    model_error_4xx        1           1          0           1        yes (the model answered 4xx)
    model_error_5xx        1           0          1           1        yes (the model answered 5xx)
    client_4xx             1           1          0           0        only if measured (rejected before
                                                                        the model: validation, size, ...)
    server_5xx             1           0          1           1        only if measured (no answer from the
                                                                        model: timeout, reset, malformed,
                                                                        no healthy instance)

InvocationModelErrors counts "model invocation requests which did not result in 2XX", including socket
errors, malformed responses and timeouts (SageMaker's wording), hence server_5xx counts as a model error.
OverheadLatency gets a sample for every outcome. Latencies are in microseconds.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, NamedTuple

NAMESPACE: Final = "AWS/SageMaker"
GREENFLEET_NAMESPACE: Final = "Greenfleet/Endpoints"
"""greenfleet's own figures (not SageMaker's), with the same dimensions."""
SHADOW_REQUESTS_DROPPED: Final = "ShadowRequestsDropped"
"""Copies for a shadow variant dropped because its endpoint's mirror in-flight limit was reached."""

ENDPOINT_NAME: Final = "EndpointName"
VARIANT_NAME: Final = "VariantName"
CONFIG_NAME: Final = "EndpointConfigName"
INSTANCE_ID: Final = "InstanceId"
CONTAINER_NAME: Final = "ContainerName"

INVOCATIONS: Final = "Invocations"
INVOCATION_4XX_ERRORS: Final = "Invocation4XXErrors"
INVOCATION_5XX_ERRORS: Final = "Invocation5XXErrors"
INVOCATION_MODEL_ERRORS: Final = "InvocationModelErrors"
INVOCATIONS_PER_INSTANCE: Final = "InvocationsPerInstance"
MODEL_LATENCY: Final = "ModelLatency"
OVERHEAD_LATENCY: Final = "OverheadLatency"
MODEL_SETUP_TIME: Final = "ModelSetupTime"
CPU_UTILIZATION: Final = "CPUUtilization"
MEMORY_UTILIZATION: Final = "MemoryUtilization"
CONCURRENT_REQUESTS_PER_MODEL: Final = "ConcurrentRequestsPerModel"
"""Requests in flight per healthy instance of a variant, sampled each second (high resolution)."""
SERVERLESS_UTILIZATION: Final = "ServerlessConcurrentExecutionsUtilization"
"""A serverless variant's requests in flight (peak of the second) over its MaxConcurrency."""
CONTAINER_LATENCY: Final = "ContainerLatency"

APPROXIMATE_BACKLOG_SIZE: Final = "ApproximateBacklogSize"
APPROXIMATE_BACKLOG_SIZE_PER_INSTANCE: Final = "ApproximateBacklogSizePerInstance"
APPROXIMATE_AGE_OF_OLDEST_REQUEST: Final = "ApproximateAgeOfOldestRequest"
HAS_BACKLOG_WITHOUT_CAPACITY: Final = "HasBacklogWithoutCapacity"
"""Asynchronous endpoints' backlog (dimension EndpointName only; ``asyncinference/backlog.py``)."""

INVOCATIONS_PROCESSED: Final = "InvocationsProcesssed"  # sic: SageMaker's spelling, three s
INVOCATION_FAILURES: Final = "InvocationFailures"
EXPIRED_REQUESTS: Final = "ExpiredRequests"
REQUEST_DOWNLOAD_FAILURES: Final = "RequestDownloadFailures"
RESPONSE_UPLOAD_FAILURES: Final = "ResponseUploadFailures"
NOTIFICATION_FAILURES: Final = "NotificationFailures"
TIME_IN_BACKLOG: Final = "TimeInBacklog"
TOTAL_PROCESSING_TIME: Final = "TotalProcessingTime"
REQUEST_DOWNLOAD_LATENCY: Final = "RequestDownloadLatency"
RESPONSE_UPLOAD_LATENCY: Final = "ResponseUploadLatency"
ASYNC_VARIANT_COUNTS: Final = (INVOCATIONS_PROCESSED, INVOCATION_FAILURES, EXPIRED_REQUESTS, REQUEST_DOWNLOAD_FAILURES,
                               RESPONSE_UPLOAD_FAILURES, NOTIFICATION_FAILURES)
ASYNC_VARIANT_UNITS: Final = {
    **{name: "Count" for name in ASYNC_VARIANT_COUNTS},
    TIME_IN_BACKLOG: "Milliseconds", TOTAL_PROCESSING_TIME: "Milliseconds",
    REQUEST_DOWNLOAD_LATENCY: "Microseconds", RESPONSE_UPLOAD_LATENCY: "Microseconds",
}
"""Asynchronous endpoints' per-variant metrics (dimensions EndpointName, VariantName;
``asyncinference/variant_metrics.py``) and their units (sagemaker-wave2.md §E.2)."""

UNITS: Final = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
)

BUILTIN_UNITS: Final = {
    INVOCATIONS: "None", INVOCATION_4XX_ERRORS: "None", INVOCATION_5XX_ERRORS: "None",
    INVOCATION_MODEL_ERRORS: "None", INVOCATIONS_PER_INSTANCE: "None", MODEL_LATENCY: "Microseconds",
    OVERHEAD_LATENCY: "Microseconds", MODEL_SETUP_TIME: "Microseconds", CPU_UTILIZATION: "Percent",
    MEMORY_UTILIZATION: "Percent", CONCURRENT_REQUESTS_PER_MODEL: "None",
    SERVERLESS_UTILIZATION: "None", CONTAINER_LATENCY: "Microseconds",
}


class Outcome(StrEnum):
    OK = "ok"
    MODEL_ERROR_4XX = "model_error_4xx"
    MODEL_ERROR_5XX = "model_error_5xx"
    CLIENT_4XX = "client_4xx"
    SERVER_5XX = "server_5xx"


class OutcomeCounts(NamedTuple):
    error_4xx: int
    error_5xx: int
    model_error: int


OUTCOMES: Final[dict[str, OutcomeCounts]] = {
    Outcome.OK: OutcomeCounts(0, 0, 0),
    Outcome.MODEL_ERROR_4XX: OutcomeCounts(1, 0, 1),
    Outcome.MODEL_ERROR_5XX: OutcomeCounts(0, 1, 1),
    Outcome.CLIENT_4XX: OutcomeCounts(1, 0, 0),
    Outcome.SERVER_5XX: OutcomeCounts(0, 1, 1),
}
