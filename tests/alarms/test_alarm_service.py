"""AlarmService's API: validation, configuration updates, SetAlarmState, actions, history, the queries
the rollout controller uses, and the alarms users copy from SageMaker's documentation (seed 003)."""

from __future__ import annotations

import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine

from greenfleet.alarms import ALARM, INSUFFICIENT_DATA, OK
from greenfleet.clock import FakeClock
from greenfleet.errors import ResourceNotFound, ValidationError
from tests.observability_support import tick

BASE = {"Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}],
        "Period": 60, "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching"}


@pytest.fixture
def services(sqlite_engine: Engine, make_services: Callable[..., SimpleNamespace]) -> SimpleNamespace:
    return make_services(sqlite_engine)


def _traffic(services: SimpleNamespace, seconds: int, outcome: str = "ok", config: str = "cfg-1",
             latency: float = 2000.0, per_second: int = 5) -> list[Any]:
    """Invocations through the recorder, one tick per second (flush, then evaluate)."""
    transitions = []
    for _ in range(seconds):
        now = services.clock.now()
        for i in range(per_second):
            services.metrics.recorder.record_invocation("ep", "AllTraffic", config, "i-1", outcome, latency, 90.0,
                                                        now + i / (per_second + 1))
        transitions += tick(services)
    return transitions


BAD_ALARMS = [
    ({"Period": 0}, "Period must be a whole number"),
    ({"EvaluationPeriods": 0}, "EvaluationPeriods must be a whole number"),
    ({"DatapointsToAlarm": 2}, "DatapointsToAlarm (2) must not exceed EvaluationPeriods (1)"),
    ({"ComparisonOperator": "Bigger"}, "ComparisonOperator must be one of"),
    ({"ComparisonOperator": "GreaterThanUpperThreshold"}, "anomaly detection alarms"),
    ({"TreatMissingData": "skip"}, "TreatMissingData must be one of"),
    ({"Statistic": "Median"}, "Statistic: 'Median' is not one of"),
    ({"Statistic": None, "ExtendedStatistic": "p999"}, "The value p999 for parameter ExtendedStatistic"),
    ({"ExtendedStatistic": "p99"}, "exactly one of Statistic or ExtendedStatistic"),
    ({"Threshold": "high"}, "Threshold is required and must be a number"),
    ({"AlarmActions": ["arn:aws:sns:us-east-1:1:topic"]}, "Invalid arn syntax: arn:aws:sns:us-east-1:1:topic"),
    ({"AlarmActions": ["mailto:ops@example.com"]}, "AlarmActions.member.1"),
    ({"OKActions": [f"http://h/{i}" for i in range(6)]}, "OKActions must not have a size greater than 5"),
    ({"Dimensions": [{"Name": "EndpointName"}]}, "Dimensions.member.1.Value must be a non-empty string"),
    ({"Period": 10, "EvaluationPeriods": 9000}, "must not exceed 86400 s"),
    ({"Period": 7, "EvaluationPeriods": 2000}, "one-second points are kept"),
    ({"Colour": "red"}, "unknown member(s): Colour"),
    ({"Metrics": [{"Id": "m1", "Expression": "1 + 1"}]}, "must not be given with Metrics"),
    ({"EvaluateLowSampleCountPercentile": "ignore"}, "applies only to a percentile"),
]


@pytest.mark.parametrize(("change", "message"), BAD_ALARMS, ids=[m for _, m in BAD_ALARMS])
def test_invalid_alarms_are_refused_naming_the_field(services: SimpleNamespace, change: dict[str, Any],
                                                     message: str) -> None:
    body = {**BASE, "AlarmName": "a", **change}
    with pytest.raises(ValidationError) as caught:
        services.alarms.put_alarm({k: v for k, v in body.items() if v is not None})
    assert message in caught.value.message


def test_metrics_form_validation(services: SimpleNamespace) -> None:
    stat = {"Metric": {"Namespace": "N", "MetricName": "M"}, "Period": 60, "Stat": "Sum"}
    body = {"AlarmName": "m", "EvaluationPeriods": 1, "Threshold": 1, "ComparisonOperator": "GreaterThanThreshold"}
    for metrics, message in (
        ([{"Id": "a", "MetricStat": stat}, {"Id": "b", "Expression": "a * 2"}], "exactly one entry must have"),
        ([{"Id": "a", "MetricStat": stat, "ReturnData": False}, {"Id": "b", "Expression": "a ** 2"}],
         "not supported"),
        ([{"Id": "a", "MetricStat": stat, "ReturnData": False},
          {"Id": "b", "MetricStat": {**stat, "Period": 120}, "ReturnData": False},
          {"Id": "c", "Expression": "a + b"}], "same Period"),
    ):
        with pytest.raises(ValidationError, match=message):
            services.alarms.put_alarm({**body, "Metrics": metrics})


def test_a_new_alarm_starts_insufficient_and_updates_keep_the_state(services: SimpleNamespace) -> None:
    created = services.alarms.put_alarm({**BASE, "AlarmName": "errors"})
    assert (created["StateValue"], created["StateReason"]) == (INSUFFICIENT_DATA, "Unchecked: Initial alarm creation")
    assert created["AlarmArn"] == "arn:aws:cloudwatch:us-east-1:000000000000:alarm:errors"
    tick(services)  # notBreaching and no data: OK at the first evaluation
    assert services.alarms.describe_alarm("errors")["StateValue"] == OK
    updated = services.alarms.put_alarm({**BASE, "AlarmName": "errors", "Threshold": 0.5})
    assert (updated["StateValue"], updated["Threshold"]) == (OK, 0.5)
    summaries = [h["HistorySummary"] for h in services.alarms.history("errors", descending=False)]
    assert summaries == ['Alarm "errors" created', "Alarm updated from INSUFFICIENT_DATA to OK",
                         'Alarm "errors" updated']


def test_describe_filters_and_delete(services: SimpleNamespace) -> None:
    for name in ("web-errors", "web-latency", "batch-errors"):
        services.alarms.put_alarm({**BASE, "AlarmName": name, "AlarmActions": [f"http://hooks/{name}"]})
    services.alarms.set_alarm_state("web-latency", ALARM, "testing")

    def names(alarms: list[dict[str, Any]]) -> list[str]:
        return [a["AlarmName"] for a in alarms]

    assert names(services.alarms.describe_alarms(prefix="web-")) == ["web-errors", "web-latency"]
    assert names(services.alarms.describe_alarms(state=ALARM)) == ["web-latency"]
    assert names(services.alarms.describe_alarms(["batch-errors", "nope"])) == ["batch-errors"]
    assert names(services.alarms.describe_alarms(action_prefix="http://hooks/batch")) == ["batch-errors"]
    services.alarms.delete_alarms(["web-errors"])
    with pytest.raises(ResourceNotFound):
        services.alarms.describe_alarm("web-errors")
    assert services.alarms.delete_alarms(["web-errors", "nope"]) == []  # unknown names: nothing, no error


def test_seed_alarm_on_5xx_goes_alarm_then_ok(services: SimpleNamespace, clock: FakeClock) -> None:
    """From the deployment-guardrails post: Invocation5XXErrors Average >= 1 over 60 s, notBreaching."""
    services.alarms.put_alarm({**BASE, "AlarmName": "errors"})
    minute = clock.now()
    assert [(t.old, t.new) for t in _traffic(services, 60)] == [(INSUFFICIENT_DATA, OK)]
    transitions = _traffic(services, 60, "model_error_5xx")
    assert [(t.old, t.new, t.at) for t in transitions] == [(OK, ALARM, minute + 120)]  # the minute completed
    alarm = services.alarms.describe_alarm("errors")
    assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [1.0 (")
    data = json.loads(alarm["StateReasonData"])
    assert (data["statistic"], data["period"], data["recentDatapoints"], data["threshold"]) == \
        ("Average", 60, [1.0], 1.0)
    assert data["evaluatedDatapoints"][0]["sampleCount"] == 300.0
    transitions = _traffic(services, 60)
    assert [(t.old, t.new, t.at) for t in transitions] == [(ALARM, OK, minute + 180)]


def test_seed_latency_alarm_watches_only_the_new_fleet(services: SimpleNamespace, clock: FakeClock) -> None:
    """ModelLatency Average in µs over EndpointName + VariantName + EndpointConfigName of the new config."""
    for config in ("blue", "green"):
        services.alarms.put_alarm({**BASE, "AlarmName": f"latency-{config}", "MetricName": "ModelLatency",
                                   "Threshold": 10000, "Dimensions": [*BASE["Dimensions"],  # type: ignore[misc]
                                                                      {"Name": "EndpointConfigName", "Value": config}]})
    for _ in range(60):
        now = clock.now()
        services.metrics.recorder.record_invocation("ep", "AllTraffic", "blue", "b-1", "ok", 2_000.0, 50.0, now)
        services.metrics.recorder.record_invocation("ep", "AllTraffic", "green", "g-1", "ok", 30_000.0, 50.0, now)
        tick(services)
    tick(services)
    states = services.alarms.states(["latency-blue", "latency-green", "missing"])
    assert {n: s.state for n, s in states.items()} == {"latency-blue": OK, "latency-green": ALARM}


def test_set_alarm_state_lasts_until_the_next_period(services: SimpleNamespace, clock: FakeClock) -> None:
    services.alarms.put_alarm({**BASE, "AlarmName": "errors", "AlarmActions": ["http://127.0.0.1:9/alarm"]})
    tick(services)
    assert services.alarms.states(["errors"])["errors"].state == OK
    clock.advance(10)
    services.alarms.set_alarm_state("errors", ALARM, "testing the rollback", '{"why": "test"}')
    forced_at = clock.now()
    for _ in range(48):  # the minute in progress completes 49 s later
        assert tick(services) == []
    (back,) = tick(services)
    assert (back.old, back.new) == (ALARM, OK)
    assert services.alarms.in_alarm_since(["errors"], forced_at - 1) == {"errors": True}
    assert services.alarms.in_alarm_since(["errors"], clock.now() + 1) == {"errors": False}
    deliveries = services.events.deliveries(kind="alarm_action")
    assert [d["Payload"]["NewStateValue"] for d in deliveries] == [ALARM]
    assert deliveries[0]["Payload"]["NewStateReason"] == "testing the rollback"
    with pytest.raises(ValidationError, match="StateReasonData must be a JSON"):
        services.alarms.set_alarm_state("errors", ALARM, "x", "{not json")
    with pytest.raises(ValidationError, match="StateValue must be one of"):
        services.alarms.set_alarm_state("errors", "RED", "x")


def test_actions_can_be_disabled(services: SimpleNamespace) -> None:
    hooks = {"AlarmActions": ["http://127.0.0.1:9/a"], "OKActions": ["http://127.0.0.1:9/ok"]}
    services.alarms.put_alarm({**BASE, "AlarmName": "errors", **hooks})
    services.alarms.set_actions_enabled(["errors"], False)
    assert services.alarms.describe_alarm("errors")["ActionsEnabled"] is False
    tick(services)  # → OK, but no action
    assert services.events.deliveries() == []
    services.alarms.set_actions_enabled(["errors"], True)
    services.alarms.set_alarm_state("errors", ALARM, "test")
    (delivery,) = services.events.deliveries()
    assert (delivery["Url"], delivery["Kind"], delivery["Status"]) == ("http://127.0.0.1:9/a", "alarm_action",
                                                                       "pending")
    # every transition is an event, whether actions are enabled or not
    events = services.events.list_events(source="aws.cloudwatch")
    assert [e.detail["state"]["value"] for e in events] == [OK, ALARM]
    assert events[1].resource == services.alarms.arn("errors") and delivery["DedupId"] == events[1].id


def test_low_sample_count_percentiles_can_be_ignored(services: SimpleNamespace, clock: FakeClock) -> None:
    services.alarms.put_alarm({**BASE, "AlarmName": "p99", "Statistic": None, "ExtendedStatistic": "p99",
                               "MetricName": "ModelLatency", "Threshold": 5000, "Period": 60,
                               "EvaluateLowSampleCountPercentile": "ignore", "TreatMissingData": "missing"})
    _traffic(services, 60, per_second=5)  # 300 samples < 10 / (1 - 0.99) = 1000: not evaluated
    tick(services)
    assert services.alarms.states(["p99"])["p99"].state == INSUFFICIENT_DATA
    _traffic(services, 60, per_second=20)  # 1200 samples
    tick(services)
    assert services.alarms.states(["p99"])["p99"].state == OK
