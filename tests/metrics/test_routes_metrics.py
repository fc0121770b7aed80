"""The metric REST routes and GET /metrics (Prometheus), through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from greenfleet.api import errors
from greenfleet.api.routes import alarms, metrics, prometheus
from greenfleet.clock import FakeClock


@pytest.fixture
def client(sqlite_engine: Engine, make_services: Callable[..., SimpleNamespace]) -> TestClient:
    services = make_services(sqlite_engine)
    app = FastAPI()
    app.state.services = services
    errors.install(app)
    for module in (metrics, alarms, prometheus):
        app.include_router(module.router)
    return TestClient(app)


def test_put_and_read_metric_data(client: TestClient, clock: FakeClock) -> None:
    t = clock.now()
    put = client.post("/api/metric-data", json={"Namespace": "Shop", "MetricData": [
        {"MetricName": "Orders", "Value": 3, "Timestamp": t, "Dimensions": [{"Name": "Site", "Value": "eu"}]}]})
    assert put.status_code == 200, put.text
    query = client.get("/api/metric-statistics", params={
        "namespace": "Shop", "metric_name": "Orders", "start": t, "end": t + 60, "period": 60,
        "dimension": "Site=eu", "statistic": ["Sum", "SampleCount"]})
    assert query.json()["Datapoints"][0]["Sum"] == 3.0
    body = client.post("/api/metric-statistics", json={
        "Namespace": "Shop", "MetricName": "Orders", "StartTime": t, "EndTime": t + 60, "Period": 60,
        "Dimensions": [{"Name": "Site", "Value": "eu"}], "Statistics": ["Maximum"]})
    assert body.json()["Datapoints"][0]["Maximum"] == 3.0
    listed = client.get("/api/metric-series", params={"namespace": "Shop", "dimension": "Site"}).json()
    assert [m["MetricName"] for m in listed["Metrics"]] == ["Orders"]
    data = client.post("/api/metric-data-queries", json={"StartTime": t, "EndTime": t + 60, "MetricDataQueries": [
        {"Id": "o", "MetricStat": {"Metric": {"Namespace": "Shop", "MetricName": "Orders",
                                              "Dimensions": [{"Name": "Site", "Value": "eu"}]},
                                   "Period": 60, "Stat": "Sum"}, "ReturnData": False},
        {"Id": "double", "Expression": "o * 2"}]}).json()
    assert data["MetricDataResults"][0]["Values"] == [6.0]


def test_errors_are_validation_exceptions_naming_the_field(client: TestClient) -> None:
    response = client.post("/api/metric-data", json={"Namespace": "Shop", "MetricData": [{"MetricName": "M"}]})
    assert response.status_code == 400
    assert response.json()["__type"] == "ValidationException"
    assert "MetricData.member.1" in response.json()["message"]
    assert client.get("/api/metric-statistics", params={
        "namespace": "Shop", "metric_name": "M", "start": 0, "end": 60, "period": 60, "dimension": "Site",
        "statistic": "Sum"}).status_code == 400


def test_prometheus_exposition(client: TestClient, clock: FakeClock) -> None:
    services = client.app.state.services  # type: ignore[attr-defined]
    t0 = clock.now()
    for s in range(61):
        for i in range(20):
            outcome = "model_error_5xx" if i == 0 else "ok"
            services.metrics.recorder.record_invocation("ep-1", "AllTraffic", "cfg-1", "i-1", outcome,
                                                        1000.0 + 50 * i, 100.0, t0 + s + 0.1)
        services.metrics.flush(clock.advance(1))
    client.put("/api/alarms/errors", json={
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "ep-1"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 0.01, "ComparisonOperator": "GreaterThanThreshold"})
    services.alarms.evaluate(clock.now())
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for f in families.values() for s in f.samples}
    ev = (("endpoint_name", "ep-1"), ("variant_name", "AllTraffic"))
    assert samples[("aws_sagemaker_invocations_count", ev)] == 61 * 20
    assert samples[("aws_sagemaker_invocation_5xx_errors_sum", ev)] == 61
    assert samples[("aws_sagemaker_invocation_5xx_errors_count", ev)] == 61 * 20
    p99 = samples[("aws_sagemaker_model_latency", tuple(sorted((*ev, ("quantile", "0.99")))))]
    assert p99 == pytest.approx(1950.0, rel=0.01)
    assert samples[("greenfleet_alarm_state", (("alarm_name", "errors"), ("state", "ALARM")))] == 1.0
