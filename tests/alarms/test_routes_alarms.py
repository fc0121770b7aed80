"""The alarm REST routes through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from greenfleet.api import errors
from greenfleet.api.routes import alarms

SPEC = {"Namespace": "AWS/SageMaker", "MetricName": "ModelLatency", "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 10000, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching"}


@pytest.fixture
def client(sqlite_engine: Engine, make_services: Callable[..., SimpleNamespace]) -> TestClient:
    app = FastAPI()
    app.state.services = make_services(sqlite_engine)
    errors.install(app)
    app.include_router(alarms.router)
    return TestClient(app)


def test_alarm_lifecycle(client: TestClient) -> None:
    put = client.put("/api/alarms/latency", json=SPEC)
    assert put.status_code == 200 and put.json()["StateValue"] == "INSUFFICIENT_DATA"
    assert client.get("/api/alarms/latency").json()["Threshold"] == 10000.0
    assert [a["AlarmName"] for a in client.get("/api/alarms", params={"prefix": "lat"}).json()["MetricAlarms"]] == [
        "latency"]
    assert client.post("/api/alarms/latency/state", json={"StateValue": "ALARM", "StateReason": "drill"}).json() == {}
    assert client.get("/api/alarms", params={"state": "ALARM"}).json()["MetricAlarms"][0]["StateReason"] == "drill"
    assert client.post("/api/alarms/latency/disable-actions").status_code == 200
    assert client.get("/api/alarms/latency").json()["ActionsEnabled"] is False
    assert client.post("/api/alarms/latency/enable-actions").status_code == 200
    history = client.get("/api/alarms/latency/history", params={"type": "StateUpdate"}).json()["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == ["Alarm updated from INSUFFICIENT_DATA to ALARM"]
    assert len(client.get("/api/alarm-history", params={"order": "asc"}).json()["AlarmHistoryItems"]) == 2
    assert client.delete("/api/alarms/latency").status_code == 200
    missing = client.get("/api/alarms/latency")
    assert missing.status_code == 400 and missing.json()["__type"] == "ResourceNotFound"


def test_invalid_alarm_answers_a_validation_exception(client: TestClient) -> None:
    response = client.put("/api/alarms/bad", json={**SPEC, "EvaluationPeriods": 2, "DatapointsToAlarm": 3})
    assert response.status_code == 400
    assert response.json() == {"__type": "ValidationException", "code": "ValidationException",
                               "message": "DatapointsToAlarm (3) must not exceed EvaluationPeriods (2)",
                               "Message": "DatapointsToAlarm (3) must not exceed EvaluationPeriods (2)"}
    mismatch = client.put("/api/alarms/one", json={**SPEC, "AlarmName": "two"})
    assert "does not match the alarm named in the path" in mismatch.json()["message"]
    assert client.put("/api/alarms/x", content=b"[1, 2]", headers={"content-type": "application/json"}
                      ).status_code == 400
