"""The client's waiters: poll DescribeEndpoint until an endpoint reaches a status, a deployment ends or
the endpoint is gone. ``Client`` inherits them; they raise ``WaiterError`` on failure or timeout."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from greenfleet.clienterrors import ApiError, ServerUnreachable, WaiterError

Doc = dict[str, Any]
DEPLOYMENT_ENDED = {"InService", "UpdateRollbackFailed"}
"""Endpoint statuses in which no deployment runs any more (wait_for_deployment)."""


class EndpointWaiters:
    def describe_endpoint(self, EndpointName: str) -> Doc:
        raise NotImplementedError

    def wait_for_endpoint(self, EndpointName: str, Status: str = "InService", Timeout: float = 600.0,
                          Delay: float = 0.5) -> Doc:
        """Poll DescribeEndpoint every ``Delay`` seconds until the endpoint's status is ``Status``; return that
        description. Raises WaiterError if it turns Failed (with its FailureReason) or ``Timeout`` seconds pass."""
        deadline = time.monotonic() + Timeout
        while True:
            described = self.describe_endpoint(EndpointName=EndpointName)
            current = described["EndpointStatus"]
            if current == Status:
                return described
            if current == "Failed":
                reason = described.get("FailureReason", "no reason given")
                raise WaiterError(f"endpoint {EndpointName} failed: {reason}", described)
            if time.monotonic() >= deadline:
                raise WaiterError(f"endpoint {EndpointName} is still {current} after {Timeout:g} s "
                                  f"(waiting for {Status})", described)
            time.sleep(Delay)

    def wait_for_deployment(self, EndpointName: str, Timeout: float = 30000.0, Delay: float = 1.0,
                            on_progress: Callable[[Doc], None] | None = None) -> Doc:
        """Poll DescribeEndpoint until the endpoint's deployment has ended; return that last description.

        The deployment has ended when the endpoint is InService (on the new config, or on the old one
        after a rollback: then FailureReason says why) or UpdateRollbackFailed. ``on_progress`` gets
        every DescribeEndpoint answer, the last one included. The server being briefly unreachable (a
        restart resumes the deployment) is retried until ``Timeout``. Raises WaiterError if the
        endpoint turns Failed or ``Timeout`` passes."""
        deadline = time.monotonic() + Timeout
        while True:
            try:
                described = self.describe_endpoint(EndpointName=EndpointName)
            except ServerUnreachable:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(Delay)
                continue
            if on_progress is not None:
                on_progress(described)
            current = described["EndpointStatus"]
            if current in DEPLOYMENT_ENDED:
                return described
            if current == "Failed":
                reason = described.get("FailureReason", "no reason given")
                raise WaiterError(f"endpoint {EndpointName} failed: {reason}", described)
            if time.monotonic() >= deadline:
                raise WaiterError(f"the deployment of endpoint {EndpointName} has not ended after {Timeout:g} s "
                                  f"(the endpoint is {current})", described)
            time.sleep(Delay)

    def wait_for_deletion(self, EndpointName: str, Timeout: float = 300.0, Delay: float = 0.5) -> None:
        """Poll DescribeEndpoint until the endpoint no longer exists."""
        deadline = time.monotonic() + Timeout
        while True:
            try:
                described = self.describe_endpoint(EndpointName=EndpointName)
            except ApiError as exc:
                if exc.not_found:
                    return
                raise
            if described["EndpointStatus"] == "Failed":
                raise WaiterError(f"endpoint {EndpointName} failed while deleting: "
                                  f"{described.get('FailureReason', 'no reason given')}", described)
            if time.monotonic() >= deadline:
                raise WaiterError(f"endpoint {EndpointName} still exists ({described['EndpointStatus']}) after "
                                  f"{Timeout:g} s", described)
            time.sleep(Delay)
