"""Event webhooks: at least once, with the event id to de-duplicate on; deliveries owed at a restart are
made after it; receivers that refuse for good are not retried."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, update

from greenfleet.clock import FakeClock
from greenfleet.events import EventService
from greenfleet.events.tables import deliveries
from tests.observability_support import Receiver


@pytest.fixture
def events(sqlite_engine: Engine, clock: FakeClock) -> Iterator[EventService]:
    service = EventService(sqlite_engine, clock, webhook_backoff_base_s=1.0, poll_interval_s=0.02)
    yield service
    service.stop()


def test_every_event_reaches_the_target_with_its_id(events: EventService, receiver: Receiver,
                                                    clock: FakeClock) -> None:
    events.create_target({"Url": f"{receiver.url}/events", "EventPattern": {"source": ["aws.sagemaker"]}})
    events.start()
    sent = [events.append("aws.sagemaker", "SageMaker Endpoint State Change", f"arn:ep/{i}", {"n": i},
                          clock.now()) for i in range(10)]
    events.append("aws.cloudwatch", "CloudWatch Alarm State Change", "arn:alarm", {}, clock.now())  # filtered out
    received = receiver.wait_for(10)
    assert sorted(r.body["id"] for r in received) == sorted(e.id for e in sent)
    assert all(r.headers["X-Greenfleet-Event-Id"] == r.body["id"] for r in received)
    assert {r.body["detail"]["n"] for r in received} == set(range(10))


def test_at_least_once_across_failures_and_restarts(sqlite_engine: Engine, receiver: Receiver,
                                                    clock: FakeClock) -> None:
    first = EventService(sqlite_engine, clock, webhook_backoff_base_s=1.0)
    first.create_target({"Url": f"{receiver.url}/e"})
    receiver.statuses = [503]
    event = first.append("aws.sagemaker", "SageMaker Endpoint State Change", "arn:ep/a", {}, clock.now())
    first.dispatcher.run_due(clock.now())  # refused: retried later
    (owed,) = first.deliveries()
    assert (owed["Status"], owed["Attempts"], owed["LastStatusCode"]) == ("pending", 1, 503)
    first.stop()

    clock.advance(1)
    second = EventService(sqlite_engine, clock)  # the restart: the delivery is still owed
    second.dispatcher.run_due(clock.now())
    (done,) = second.deliveries()
    assert (done["Status"], done["Attempts"]) == ("delivered", 2)
    # a crash after the POST but before recording it: the receiver gets the event again, same id
    with sqlite_engine.begin() as conn:
        conn.execute(update(deliveries).values(status="pending", next_attempt_at=0.0))
    second.dispatcher.run_due(clock.now())
    ids = [r.body["id"] for r in receiver.requests]
    assert ids == [event.id] * 3 and len({r.headers["X-Greenfleet-Delivery-Id"] for r in receiver.requests}) == 1
    second.stop()


def test_client_errors_are_not_retried(events: EventService, receiver: Receiver, clock: FakeClock) -> None:
    events.create_target({"Url": f"{receiver.url}/gone"})
    receiver.statuses = [410]
    events.append("s", "t", None, {}, clock.now())
    events.dispatcher.run_due(clock.now())
    clock.advance(3600)
    assert events.dispatcher.run_due(clock.now()) == 0
    (failed,) = events.deliveries(status="failed")
    assert failed["LastError"] == "HTTP 410 (not retried)" and len(receiver.requests) == 1


def test_back_off_schedule(events: EventService) -> None:
    dispatcher = events.dispatcher
    assert [dispatcher.backoff(n) for n in range(1, 12)] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
