"""The event REST routes through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from greenfleet.api import errors
from greenfleet.api.routes import events


@pytest.fixture
def client(sqlite_engine: Engine, make_services: Callable[..., SimpleNamespace]) -> TestClient:
    app = FastAPI()
    app.state.services = make_services(sqlite_engine)
    errors.install(app)
    app.include_router(events.router)
    return TestClient(app)


def test_events_targets_and_deliveries(client: TestClient) -> None:
    target = client.post("/api/event-targets", json={"Url": "http://127.0.0.1:9/hook",
                                                    "EventPattern": {"source": ["greenfleet.test"]}})
    assert target.status_code == 201
    target_id = target.json()["Id"]
    created = [client.post("/api/events", json={"Source": "greenfleet.test", "DetailType": "Ping",
                                                "Resource": f"r{i}", "Detail": {"i": i}}).json() for i in range(3)]
    assert [e["detail"]["i"] for e in created] == [0, 1, 2]
    listed = client.get("/api/events", params={"source": "greenfleet.test", "limit": 2}).json()
    assert [e["id"] for e in listed["Events"]] == [created[0]["id"], created[1]["id"]]
    rest = client.get("/api/events", params={"after": listed["LastSeq"]}).json()["Events"]
    assert [e["id"] for e in rest] == [created[2]["id"]]
    assert client.get(f"/api/events/{created[1]['id']}").json()["resources"] == ["r1"]
    assert client.get("/api/events", params={"resource": "r2", "order": "desc"}).json()["Events"][0]["id"] == \
        created[2]["id"]
    owed = client.get("/api/deliveries", params={"target_id": target_id}).json()["Deliveries"]
    assert sorted(d["DedupId"] for d in owed) == sorted(e["id"] for e in created)
    assert all(d["Status"] == "pending" for d in owed)
    assert client.patch(f"/api/event-targets/{target_id}", json={"Enabled": False}).json()["Enabled"] is False
    assert [t["Id"] for t in client.get("/api/event-targets").json()["Targets"]] == [target_id]
    assert client.delete(f"/api/event-targets/{target_id}").status_code == 200
    gone = client.get(f"/api/event-targets/{target_id}")
    assert gone.status_code == 400 and gone.json()["__type"] == "ResourceNotFound"
    bad = client.post("/api/events", json={"Source": "", "DetailType": "x"})
    assert bad.status_code == 400 and "source must be" in bad.json()["message"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "must be a JSON object"), (b"[1, 2]", "must be a JSON object"), (b"{no", "malformed JSON")])
def test_a_body_that_is_not_a_json_object_is_a_validation_exception(client: TestClient, content: bytes,
                                                                    message: str) -> None:
    answer = client.post("/api/events", content=content, headers={"Content-Type": "application/json"})
    assert answer.status_code == 400 and answer.headers["x-amzn-ErrorType"] == "ValidationException"
    assert message in answer.json()["message"]
    assert client.get("/api/events").json()["Events"] == []
