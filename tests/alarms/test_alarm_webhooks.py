"""Alarm actions reach a real webhook receiver on 127.0.0.1; a slow or dead receiver never delays
evaluation; failed deliveries are retried with back-off, and every attempt is recorded."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine

from greenfleet.alarms import ALARM, OK
from greenfleet.clock import FakeClock
from greenfleet.metrics.timestamps import iso
from tests.observability_support import Receiver, dead_url, tick

SPEC = {"Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        "Period": 1, "EvaluationPeriods": 1, "Threshold": 0.5, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching"}


def _second_of(services: SimpleNamespace, outcome: str) -> list[Any]:
    now = services.clock.now()
    for i in range(3):
        services.metrics.recorder.record_invocation("ep", "AllTraffic", "cfg", "i-1", outcome, 100.0, 10.0,
                                                    now + i / 4)
    transitions: list[Any] = tick(services)
    return transitions


def test_the_webhook_receives_alarm_then_ok(sqlite_engine: Engine, receiver: Receiver,
                                            make_services: Callable[..., SimpleNamespace]) -> None:
    services = make_services(sqlite_engine, start=True)
    services.alarms.put_alarm({**SPEC, "AlarmName": "errors", "AlarmActions": [f"{receiver.url}/alarm"],
                               "OKActions": [f"{receiver.url}/ok"]})
    tick(services)  # INSUFFICIENT_DATA → OK (no data, notBreaching): the OK action fires too
    _second_of(services, "model_error_5xx")
    _second_of(services, "ok")
    # deliveries run in parallel: receivers order them by StateChangeTime
    requests = sorted(receiver.wait_for(3), key=lambda r: r.body["StateChangeTime"])
    assert [(r.path, r.body["OldStateValue"], r.body["NewStateValue"]) for r in requests] == [
        ("/ok", "INSUFFICIENT_DATA", OK), ("/alarm", OK, ALARM), ("/ok", ALARM, OK)]
    alarm = requests[1]
    assert alarm.body["AlarmName"] == "errors" and alarm.body["Trigger"]["MetricName"] == "Invocation5XXErrors"
    assert alarm.body["Trigger"]["Statistic"] == "AVERAGE" and alarm.body["NewStateReasonData"]["period"] == 1
    assert alarm.headers["X-Greenfleet-Event-Id"] == alarm.body["EventId"]
    event = services.events.get_event(alarm.body["EventId"])
    assert event.detail["state"]["value"] == ALARM and event.detail["previousState"]["value"] == OK
    deadline = time.monotonic() + 5
    while len(services.alarms.history("errors", item_type="Action")) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    actions = services.alarms.history("errors", item_type="Action")
    assert all(a["HistorySummary"].startswith("Successfully executed action http://127.0.0.1") for a in actions)


def test_a_slow_or_dead_webhook_never_delays_evaluation(sqlite_engine: Engine, receiver: Receiver,
                                                        make_services: Callable[..., SimpleNamespace]) -> None:
    services = make_services(sqlite_engine, start=True, webhook_timeout_s=5.0)
    receiver.delay_s = 3.0  # waiting on even one webhook would take this long; 80 evaluations take far less
    for i in range(20):
        url = f"{receiver.url}/slow" if i % 2 else dead_url()
        services.alarms.put_alarm({**SPEC, "AlarmName": f"a{i}", "AlarmActions": [url], "OKActions": [url]})
    started = time.monotonic()
    transitions = []
    for outcome in ("model_error_5xx", "ok", "model_error_5xx", "ok"):
        transitions += _second_of(services, outcome)
    elapsed = time.monotonic() - started
    assert len(transitions) == 20 * 4 and elapsed < 3.0, elapsed  # 80 transitions, 80 webhooks queued
    requests = receiver.wait_for(4, timeout=15)  # four workers, each held 3 s by the slow receiver
    assert time.monotonic() - started >= 3.0 and all(r.path == "/slow" for r in requests)
    services.events.stop()


def test_retries_with_back_off_are_recorded(sqlite_engine: Engine, receiver: Receiver, clock: FakeClock,
                                            make_services: Callable[..., SimpleNamespace]) -> None:
    services = make_services(sqlite_engine, webhook_backoff_base_s=2.0, webhook_backoff_max_s=5.0,
                             webhook_max_attempts=4)
    dead = dead_url()
    services.alarms.put_alarm({**SPEC, "AlarmName": "flaky", "AlarmActions": [f"{receiver.url}/a"]})
    services.alarms.put_alarm({**SPEC, "AlarmName": "down", "AlarmActions": [dead]})
    receiver.statuses = [500, 503]  # the receiver fails twice, then accepts
    t = clock.now()
    services.alarms.set_alarm_state("flaky", ALARM, "test", now=t)
    services.alarms.set_alarm_state("down", ALARM, "test", now=t)
    dispatcher = services.events.dispatcher
    for at in (t, t + 1, t + 2, t + 3, t + 6, t + 7, t + 11, t + 20):
        clock.set(at)
        dispatcher.run_due(at)
    flaky, down = sorted(services.events.deliveries(kind="alarm_action"), key=lambda d: d["Url"] == dead)
    assert (flaky["Status"], flaky["Attempts"], flaky["LastStatusCode"]) == ("delivered", 3, 200)
    assert [a["StatusCode"] for a in flaky["AttemptLog"]] == [500, 503, 200]
    # back-off: 2 s after the first failure, then 4 s, then 5 s (the maximum)
    assert [a["At"] for a in flaky["AttemptLog"]] == [iso(t), iso(t + 2), iso(t + 6)]
    assert (down["Status"], down["Attempts"]) == ("failed", 4)
    assert all(a["StatusCode"] is None and "ConnectError" in a["Error"] for a in down["AttemptLog"])
    assert [a["At"] for a in down["AttemptLog"]] == [iso(t), iso(t + 2), iso(t + 6), iso(t + 11)]
    assert len(receiver.requests) == 3
    assert {r.headers["X-Greenfleet-Delivery-Id"] for r in receiver.requests} == {flaky["Id"]}
    (failed,) = services.alarms.history("down", item_type="Action")
    assert failed["HistorySummary"].startswith(f"Failed to execute action {dead}")
