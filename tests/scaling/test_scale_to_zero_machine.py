"""Scale to zero of an asynchronous variant, the pure controller tick by tick (SageMaker's pattern,
sgdocs:async-inference-autoscale.md): MinCapacity 0, target tracking on ApproximateBacklogSizePerInstance
scales in to zero once the backlog is empty, and a step policy fired by the HasBacklogWithoutCapacity alarm
wakes the variant from zero. A real-time variant (MinCapacity at least 1) never goes below one."""

from __future__ import annotations

import itertools

from greenfleet.scaling import config
from greenfleet.scaling.machine import FinishActivity, Limits, Observation, SetCapacity, TargetState, step
from greenfleet.scaling.policy import PolicyView, Signal

T0 = 1_700_000_000.0
_ids = itertools.count(1)
LIMITS = Limits(activity_timeout_s=600.0, not_scaled_repeat_s=60.0, new_id=lambda: f"z{next(_ids)}")
BACKLOG = PolicyView("tt", "backlog", tracking=config.target_tracking(
    {"TargetValue": 5.0, "ScaleInCooldown": 60, "ScaleOutCooldown": 60, "CustomizedMetricSpecification": {
        "MetricName": "ApproximateBacklogSizePerInstance", "Namespace": "AWS/SageMaker", "Statistic": "Average",
        "Dimensions": [{"Name": "EndpointName", "Value": "e"}]}}, "e", "v", 300.0))
WAKE = PolicyView("st", "wake", step=config.step_scaling(
    {"AdjustmentType": "ChangeInCapacity", "Cooldown": 300,
     "StepAdjustments": [{"MetricIntervalLowerBound": 0.0, "ScalingAdjustment": 1}]}, 300.0))


def low(value: float) -> Signal:
    return Signal("tt", "backlog", "tt-AlarmLow", False, value)


def high(value: float) -> Signal:
    return Signal("tt", "backlog", "tt-AlarmHigh", True, value)


def without_capacity(value: float = 1.0) -> Signal:
    """The caller's alarm on HasBacklogWithoutCapacity (threshold 1, GreaterThanOrEqualToThreshold)."""
    return Signal("st", "wake", "has-backlog-without-capacity", True, value, threshold=1.0)


def seen(desired: int, serving: int, *signals: Signal, lo: int = 0, hi: int = 3) -> Observation:
    return Observation("e", "v", True, desired, serving, None, lo, hi, policies=(BACKLOG, WAKE), signals=signals)


def capacities(actions: list[object]) -> list[int]:
    return [a.capacity for a in actions if isinstance(a, SetCapacity)]


def test_an_empty_backlog_scales_an_asynchronous_variant_in_to_zero_and_the_activity_succeeds() -> None:
    state, actions = step(TargetState(), seen(1, 1, low(0.0)), T0, LIMITS)
    assert capacities(actions) == [0]
    state, actions = step(state, seen(0, 1), T0 + 1, LIMITS)  # the instance is still draining
    assert actions == []
    state, actions = step(state, seen(0, 0), T0 + 2, LIMITS)
    (done,) = actions
    assert isinstance(done, FinishActivity) and done.status == "Successful"
    assert done.message.startswith("Successfully set desired instance count to 0.")


def test_a_small_backlog_never_scales_in_to_zero_nor_does_a_real_time_variant() -> None:
    # one request left on one instance, target 5: ceil(1 x 1 / 5) = 1, so removing it would leave work unserved
    _, actions = step(TargetState(), seen(1, 1, low(1.0)), T0, LIMITS)
    assert actions == []
    # MinCapacity 1 (a real-time variant): target tracking stops at one, without a not-scaled record
    _, actions = step(TargetState(), seen(1, 1, low(0.0), lo=1), T0, LIMITS)
    assert actions == []
    _, actions = step(TargetState(), seen(2, 2, low(0.0), lo=1), T0, LIMITS)
    assert capacities(actions) == [1]


def test_the_backlog_alarm_wakes_the_variant_from_zero_once_per_cooldown() -> None:
    state, actions = step(TargetState(), seen(0, 0, without_capacity()), T0, LIMITS)
    assert capacities(actions) == [1]  # 0 + 1 (ChangeInCapacity)
    state, actions = step(state, seen(1, 0, without_capacity()), T0 + 5, LIMITS)  # starting: nothing more
    assert actions == []
    state, actions = step(state, seen(1, 1), T0 + 10, LIMITS)
    assert [a.status for a in actions if isinstance(a, FinishActivity)] == ["Successful"]
    # back to zero (target tracking), then new work: the step policy's 300 s cooldown holds it ...
    state, actions = step(state, seen(1, 1, low(0.0)), T0 + 100, LIMITS)
    assert capacities(actions) == [0]
    state, _ = step(state, seen(0, 0), T0 + 101, LIMITS)
    state, actions = step(state, seen(0, 0, without_capacity()), T0 + 200, LIMITS)
    assert actions == []
    # ... until it has passed
    state, actions = step(state, seen(0, 0, without_capacity()), T0 + 301, LIMITS)
    assert capacities(actions) == [1]


def test_a_deep_backlog_at_zero_is_sized_by_target_tracking_on_the_whole_backlog() -> None:
    # with no instance ApproximateBacklogSizePerInstance is the whole backlog: 12 queued, target 5 → 3
    _, actions = step(TargetState(), seen(0, 0, high(12.0), without_capacity()), T0, LIMITS)
    assert capacities(actions) == [3]
    _, actions = step(TargetState(), seen(0, 0, high(40.0)), T0, LIMITS)
    assert capacities(actions) == [3]  # bounded by MaxCapacity
