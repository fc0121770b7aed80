"""The event log on SQLite and PostgreSQL: append, read with filters and cursors, unique ids, restart
survival; webhook targets (CRUD) and their patterns."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from greenfleet.clock import FakeClock
from greenfleet.errors import ResourceNotFound, ValidationError
from greenfleet.events import EventService


def _seed(events: EventService, t: float) -> None:
    events.append("aws.sagemaker", "SageMaker Endpoint State Change", "arn:ep/a", {"EndpointStatus": "Creating"}, t)
    events.append("aws.cloudwatch", "CloudWatch Alarm State Change", "arn:alarm/x", {"state": {"value": "OK"}}, t + 1)
    events.append("aws.sagemaker", "SageMaker Endpoint State Change", "arn:ep/a", {"EndpointStatus": "InService"},
                  t + 2)
    events.append("greenfleet.rollout", "Deployment Step", "arn:ep/b", {"step": 1}, t + 3)


def test_append_read_filter_and_survive_a_restart(engine: Engine, clock: FakeClock) -> None:
    t = clock.now()
    events = EventService(engine, clock)
    _seed(events, t)
    everything = events.list_events()
    assert [e.seq for e in everything] == sorted(e.seq for e in everything)
    assert len({e.id for e in everything}) == 4
    assert [e.detail.get("EndpointStatus") for e in events.list_events(source="aws.sagemaker")] == [
        "Creating", "InService"]
    assert [e.resource for e in events.list_events(detail_type="Deployment Step")] == ["arn:ep/b"]
    assert len(events.list_events(resource="arn:ep/a")) == 2
    assert [e.time for e in events.list_events(since=t + 1, until=t + 3)] == [t + 1, t + 2]
    newest = events.list_events(limit=2, descending=True)
    assert [e.time for e in newest] == [t + 3, t + 2]
    page = events.list_events(after=everything[1].seq)
    assert [e.id for e in page] == [e.id for e in everything[2:]]
    restarted = EventService(engine, clock)  # a new service on the same database
    assert restarted.list_events() == everything
    assert restarted.get_event(everything[0].id) == everything[0]
    shaped = restarted.event_dict(everything[1])
    assert (shaped["source"], shaped["detail-type"], shaped["resources"], shaped["account"]) == (
        "aws.cloudwatch", "CloudWatch Alarm State Change", ["arn:alarm/x"], "000000000000")


def test_targets_crud_and_patterns(engine: Engine, clock: FakeClock) -> None:
    events = EventService(engine, clock)
    alarms_only = events.create_target({"Url": "http://127.0.0.1:9/alarms", "Description": "on-call",
                                        "EventPattern": {"source": ["aws.cloudwatch"]}})
    endpoint_a = events.create_target({"Url": "https://hooks.example/ep",
                                       "EventPattern": {"detail-type": ["SageMaker Endpoint State Change"],
                                                        "resources": ["arn:ep/a"]}})
    everything = events.create_target({"Url": "http://127.0.0.1:9/all"})
    _seed(events, clock.now())
    by_target = {t.id: [d["Payload"]["id"] for d in events.deliveries(target_id=t.id)]
                 for t in (alarms_only, endpoint_a, everything)}
    assert [len(by_target[t.id]) for t in (alarms_only, endpoint_a, everything)] == [1, 2, 4]
    events.update_target(everything.id, {"Enabled": False})
    events.append("x", "y", None, {}, clock.now())
    assert len(events.deliveries(target_id=everything.id)) == 4
    restarted = EventService(engine, clock)
    assert {t.id for t in restarted.list_targets()} == {alarms_only.id, endpoint_a.id, everything.id}
    assert restarted.get_target(everything.id).enabled is False
    restarted.delete_target(alarms_only.id)
    with pytest.raises(ResourceNotFound):
        restarted.get_target(alarms_only.id)
    for body, message in (({"Url": "ftp://x"}, "is not an http(s) URL"),
                          ({"Url": "http://x", "EventPattern": {"account": ["1"]}}, "unsupported key(s) account"),
                          ({"Url": "http://x", "EventPattern": {"source": []}}, "non-empty list of strings")):
        with pytest.raises(ValidationError) as caught:
            restarted.create_target(body)
        assert message in caught.value.message
    with pytest.raises(ValidationError, match="source must be"):
        restarted.append("", "t", None, {}, clock.now())
