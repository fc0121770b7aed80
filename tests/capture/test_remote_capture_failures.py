"""Another router's capture failures in DescribeEndpoint: a ``greenfleet router`` process or an HA follower
reports why its capture writer's last write to a destination failed with its periodic report (the
``routers`` row); DescribeEndpoint's FailureReason names each live router whose write failed beside the
answering server's own reason, and drops it once that router reports no failure or falls silent."""

from __future__ import annotations

import pytest

from greenfleet.control.router_presence import (
    HEARTBEAT_S,
    STALE_AFTER_S,
    RouterRegistry,
    RouterReport,
    RouterReporter,
    remote_capture_failures,
)
from greenfleet.router.proxy import Router
from greenfleet.services.endpoints import capture_failure_reason
from tests.capture.test_capture_state import serve
from tests.services.test_hosting import Hosting, config, model, variant

REFUSED = "cannot write to /data/capture: Permission denied"


def failing(router_id: str, failures: dict[str, str], seen_at: float = 100.0) -> RouterReport:
    return RouterReport(router_id, "process", 1, {}, seen_at, capture_failures=failures)


def test_only_live_routers_failing_on_that_destination_are_named_in_router_order() -> None:
    reports = [failing("router-b", {"s3://bucket/cap": "AccessDenied"}),
               failing("server-a", {"s3://bucket/cap": "NoSuchBucket", "s3://other": "x"}),
               failing("router-c", {"s3://other": "x"}),  # another destination
               failing("router-d", {"s3://bucket/cap": "old"}, seen_at=100.0 - STALE_AFTER_S - 0.1),  # dead
               RouterReport("router-e", "process", 1, {}, 100.0)]  # captures fine
    assert remote_capture_failures(reports, "s3://bucket/cap/", 100.0) == [
        ("router-b", "AccessDenied"), ("server-a", "NoSuchBucket")]  # DescribeEndpoint keeps the trailing slash
    assert remote_capture_failures(reports, "s3://nowhere", 100.0) == []


def test_the_reason_joins_this_servers_failure_and_each_other_routers() -> None:
    assert capture_failure_reason(None, []) is None
    assert capture_failure_reason("disk full", []) == (
        "Data capture is failing: disk full. Invocations are served; their captured records are dropped.")
    assert capture_failure_reason(None, [("router-1", "AccessDenied")]) == (
        "Data capture is failing: capture on router router-1: AccessDenied. Invocations are served; their "
        "captured records are dropped.")
    assert capture_failure_reason("disk full", [("router-1", "a"), ("server-2", "b")]) == (
        "Data capture is failing: disk full; capture on router router-1: a; capture on router server-2: b. "
        "Invocations are served; their captured records are dropped.")


@pytest.fixture
def hosting(database_url: str) -> Hosting:
    hosting = Hosting(database_url)
    hosting.models.create_model(model())
    hosting.models.create_endpoint_config({**config("on", variant()), "DataCaptureConfig": {
        "InitialSamplingPercentage": 100, "DestinationS3Uri": "/data/capture/",
        "CaptureOptions": [{"CaptureMode": "Input"}]}})
    serve(hosting, "e", "on")
    return hosting


def test_describe_shows_another_routers_failure_until_it_clears_or_the_router_falls_silent(
        hosting: Hosting) -> None:
    registry = RouterRegistry(hosting.engine)
    hosting.endpoints.remote_capture_failures = lambda destination: remote_capture_failures(  # as the server
        registry.reports(), destination, hosting.clock.now())
    failures: dict[str, str] = {}
    reporter = RouterReporter(registry, Router("123456789012", 1024, 60.0), "router-x", "process",
                              clock=hosting.clock.now, capture_failures=lambda: failures)

    def reason() -> str | None:
        return hosting.endpoints.describe_endpoint({"EndpointName": "e"}).get("FailureReason")

    assert reporter.report_once(hosting.clock.now()) and reason() is None
    failures["/data/capture"] = REFUSED
    hosting.clock.advance(0.25)
    assert reporter.report_once(hosting.clock.now())  # a new failure is a change: reported at once
    assert reason() == (f"Data capture is failing: capture on router router-x: {REFUSED}. Invocations are served; "
                        "their captured records are dropped.")
    hosting.endpoints.capture_failure = lambda destination: "disk full"  # the answering server's own too
    both = reason()
    assert both is not None and both.startswith(f"Data capture is failing: disk full; capture on router router-x: "
                                                f"{REFUSED}.")
    hosting.endpoints.capture_failure = lambda destination: None

    failures.clear()  # a good write cleared it
    hosting.clock.advance(0.25)
    assert reporter.report_once(hosting.clock.now()) and reason() is None

    failures["/data/capture"] = REFUSED
    hosting.clock.advance(HEARTBEAT_S)
    assert reporter.report_once(hosting.clock.now()) and reason() is not None
    hosting.clock.advance(STALE_AFTER_S + 0.1)  # the router stopped reporting (killed): taken for dead
    assert reason() is None
