"""The driver's samples for the canary judge: whole seconds of the window, read from the metric store."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import Engine

from greenfleet.clock import FakeClock
from greenfleet.control.judge_samples import collect
from greenfleet.judge import JudgeConfig
from greenfleet.judge.samples import Counts, Moments, Sample, as_values
from greenfleet.metrics import MetricService
from greenfleet.rollout.fleet import FleetSpec, VariantSpec
from greenfleet.rollout.judging import JudgeRequest

JUDGE = JudgeConfig.model_validate({"Metrics": [
    {"Name": "latency", "MetricName": "ModelLatency", "Test": "MANN_WHITNEY"},
    {"Name": "errors", "MetricName": "Invocation5XXErrors", "Test": "SEQUENTIAL_PROPORTION"}]})


def fleet(config: str) -> FleetSpec:
    return FleetSpec(fleet_id=config, config_name=config, variants=(VariantSpec(name="main", instance_count=1,
                                                                               weight=1.0),))


def values(sample: Sample) -> NDArray[np.float64]:
    assert not isinstance(sample, Counts | Moments)
    return as_values(sample)


def test_the_window_leaves_out_the_second_it_starts_in(sqlite_engine: Engine, clock: FakeClock) -> None:
    """Green takes its share at t0 + 0.6: blue's samples from before (the whole load on blue) are not
    compared with green's."""
    metrics = MetricService(sqlite_engine, clock)
    t0 = clock.now()

    def record(config: str, at: float, latency_us: float, outcome: str = "ok") -> None:
        metrics.recorder.record_invocation("e", "main", config, f"{config}-1", outcome, latency_us, 100.0, at)

    for k in range(6):
        record("blue", t0 + 0.1 * k, 50_000.0, "server_5xx" if k else "ok")  # before green's share
    for second in (1, 2):
        for k in range(10):
            record("blue", t0 + second + 0.05 * k, 1000.0 + k)
            record("green", t0 + second + 0.05 * k, 1000.0 + k)
    metrics.flush(t0 + 3)
    request = JudgeRequest(config=JUDGE, control=fleet("blue"), experiment=fleet("green"), window_start=t0 + 0.6,
                           judgement=True, previous=None)
    samples, excluded = collect(metrics, "e", request, t0 + 3.2)
    assert excluded == ()
    blue, green = values(samples["latency"].control), values(samples["latency"].experiment)
    assert blue.size == green.size == 20 and blue.max() < 2000
    assert samples["errors"].control == samples["errors"].experiment
    whole = JudgeRequest(config=JUDGE, control=fleet("blue"), experiment=fleet("green"), window_start=t0 + 1,
                         judgement=True, previous=None)
    assert values(collect(metrics, "e", whole, t0 + 3.2)[0]["latency"].control).size == 20


def warm_up_metrics(sqlite_engine: Engine, clock: FakeClock) -> tuple[MetricService, float]:
    """Seconds 0..5 after t0: 10 calls a second on each of blue, its baseline (own series) and green; the
    first two seconds slow (cold) on the baseline and green, blue warm throughout."""
    metrics = MetricService(sqlite_engine, clock)
    t0 = clock.now()
    for second in range(6):
        for k in range(10):
            at = t0 + second + 0.05 * k
            cold = 5000.0 if second < 2 else 0.0
            metrics.recorder.record_invocation("e", "main", "blue", "b-1", "ok", 1000.0 + k, 100.0, at)
            metrics.recorder.record_invocation("e", "main", "blue@baseline", "s-1", "ok", 1000.0 + k + cold, 100.0, at)
            metrics.recorder.record_invocation("e", "main", "green", "g-1", "ok", 1000.0 + k + cold, 100.0, at)
    metrics.flush(t0 + 7)
    return metrics, t0


def baseline_fleet() -> FleetSpec:
    return fleet("blue").model_copy(update={"fleet_id": "3", "series_name": "blue@baseline"})


def test_a_baseline_is_read_from_its_own_series_not_blue_s(sqlite_engine: Engine, clock: FakeClock) -> None:
    metrics, t0 = warm_up_metrics(sqlite_engine, clock)
    request = JudgeRequest(config=JUDGE, control=baseline_fleet(), experiment=fleet("green"), window_start=t0,
                           judgement=True, previous=None)
    samples, _ = collect(metrics, "e", request, t0 + 6.5)
    control, green = values(samples["latency"].control), values(samples["latency"].experiment)
    assert control.size == green.size == 60
    assert np.median(control) == np.median(green) and control.max() > 5000  # the baseline, cold seconds too


def test_warm_up_seconds_and_invocations_leave_out_each_side_s_first_samples(sqlite_engine: Engine,
                                                                             clock: FakeClock) -> None:
    metrics, t0 = warm_up_metrics(sqlite_engine, clock)
    seconds = JUDGE.model_copy(update={"WarmUpInSeconds": 2.0})
    request = JudgeRequest(config=seconds, control=baseline_fleet(), experiment=fleet("green"), window_start=t0,
                           judgement=True, previous=None)
    samples, excluded = collect(metrics, "e", request, t0 + 6.5)
    control, green = values(samples["latency"].control), values(samples["latency"].experiment)
    assert control.size == green.size == 40 and control.max() < 2000 and green.max() < 2000
    assert excluded == (
        "the control (blue@baseline): the first 2 s (20 invocations) left out as warm-up (WarmUpInSeconds 2)",
        "green: the first 2 s (20 invocations) left out as warm-up (WarmUpInSeconds 2)")
    calls = JUDGE.model_copy(update={"WarmUpInvocations": 15})  # reached in the second second: both left out
    request = JudgeRequest(config=calls, control=baseline_fleet(), experiment=fleet("green"), window_start=t0,
                           judgement=True, previous=None)
    samples, excluded = collect(metrics, "e", request, t0 + 6.5)
    assert values(samples["latency"].experiment).size == 40
    assert excluded[1] == "green: the first 2 s (20 invocations) left out as warm-up (WarmUpInvocations 15)"
    early = JudgeRequest(config=calls, control=baseline_fleet(), experiment=fleet("green"), window_start=t0,
                         judgement=False, previous=None)
    samples, excluded = collect(metrics, "e", early, t0 + 1.5)  # 10 calls so far: still warming up
    assert values(samples["latency"].experiment).size == 0
    assert excluded[1] == ("green: all 1 s (10 invocations) so far left out, still warming up "
                           "(WarmUpInvocations 15)")
