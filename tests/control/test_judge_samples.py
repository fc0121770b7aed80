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
    samples = collect(metrics, "e", request, t0 + 3.2)
    blue, green = values(samples["latency"].control), values(samples["latency"].experiment)
    assert blue.size == green.size == 20 and blue.max() < 2000
    assert samples["errors"].control == samples["errors"].experiment
    whole = JudgeRequest(config=JUDGE, control=fleet("blue"), experiment=fleet("green"), window_start=t0 + 1,
                         judgement=True, previous=None)
    assert values(collect(metrics, "e", whole, t0 + 3.2)["latency"].control).size == 20
