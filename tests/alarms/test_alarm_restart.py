"""A restart (new service objects on the same database, SQLite and PostgreSQL) keeps alarms, their states,
history, events and points, and evaluation carries on from them."""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace

from sqlalchemy import Engine

from greenfleet.alarms import ALARM, OK
from greenfleet.clock import FakeClock
from tests.observability_support import tick

ALARM_SPEC = {
    "AlarmName": "error-rate", "AlarmDescription": "5xx rate of the new fleet", "EvaluationPeriods": 3,
    "DatapointsToAlarm": 2, "Threshold": 10.0, "ComparisonOperator": "GreaterThanThreshold",
    "TreatMissingData": "notBreaching", "AlarmActions": ["http://127.0.0.1:9/alarm"],
    "Metrics": [
        {"Id": "e", "ReturnData": False, "MetricStat": {"Metric": {
            "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors",
            "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"},
                           {"Name": "EndpointConfigName", "Value": "green"}]}, "Period": 2, "Stat": "Average"}},
        {"Id": "pct", "Expression": "e * 100", "Label": "5xx %"}],
}


def _traffic(services: SimpleNamespace, seconds: int, outcome: str) -> None:
    for _ in range(seconds):
        now = services.clock.now()
        for i in range(4):
            services.metrics.recorder.record_invocation("ep", "AllTraffic", "green", "g-1", outcome, 900.0, 40.0,
                                                        now + i / 5)
        tick(services)


def test_everything_survives_a_restart(engine: Engine, clock: FakeClock,
                                       make_services: Callable[..., SimpleNamespace]) -> None:
    first = make_services(engine)
    first.alarms.put_alarm(ALARM_SPEC)
    _traffic(first, 6, "ok")
    _traffic(first, 6, "model_error_5xx")
    assert first.alarms.states(["error-rate"])["error-rate"].state == ALARM
    before = {
        "alarm": first.alarms.describe_alarm("error-rate"),
        "history": first.alarms.history("error-rate"),
        "events": [first.events.event_dict(e) for e in first.events.list_events()],
        "deliveries": first.events.deliveries(),
        "points": first.metrics.get_metric_data({
            "StartTime": clock.now() - 12, "EndTime": clock.now(), "MetricDataQueries": ALARM_SPEC["Metrics"]}),
    }
    first.metrics.close()

    second = make_services(engine)  # the restart
    after = {
        "alarm": second.alarms.describe_alarm("error-rate"),
        "history": second.alarms.history("error-rate"),
        "events": [second.events.event_dict(e) for e in second.events.list_events()],
        "deliveries": second.events.deliveries(),
        "points": second.metrics.get_metric_data({
            "StartTime": clock.now() - 12, "EndTime": clock.now(), "MetricDataQueries": ALARM_SPEC["Metrics"]}),
    }
    assert after == before
    assert [e["detail"]["state"]["value"] for e in after["events"]] == [OK, ALARM]
    assert [d["Status"] for d in after["deliveries"]] == ["pending"]  # still owed to the receiver
    assert after["points"]["MetricDataResults"][0]["Values"][:3] == [100.0, 100.0, 100.0]
    _traffic(second, 8, "ok")  # evaluation continues from the stored state
    assert second.alarms.states(["error-rate"])["error-rate"].state == OK
    assert [h["HistorySummary"] for h in second.alarms.history("error-rate", item_type="StateUpdate")] == [
        "Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK"]
