"""The scaling controller, pure, tick by tick: each test steps ``machine.step`` with observations and an
injected time, and reads the actions it returns."""

from __future__ import annotations

import itertools
from dataclasses import replace

from greenfleet.scaling import config
from greenfleet.scaling.machine import (
    Deregister,
    FinishActivity,
    Limits,
    NotScaled,
    Observation,
    SetCapacity,
    StartActivity,
    TargetState,
    step,
)
from greenfleet.scaling.policy import PolicyView, Signal

T0 = 1_700_000_000.0
_ids = itertools.count(1)
LIMITS = Limits(activity_timeout_s=600.0, not_scaled_repeat_s=60.0, new_id=lambda: f"a{next(_ids)}")


def tracking(target: float = 100.0, out_s: float = 300.0, in_s: float = 300.0, disable_in: bool = False,
             arn: str = "tt") -> PolicyView:
    raw = {"TargetValue": target, "ScaleOutCooldown": out_s, "ScaleInCooldown": in_s, "DisableScaleIn": disable_in,
           "PredefinedMetricSpecification": {"PredefinedMetricType": config.INVOCATIONS_PER_INSTANCE}}
    return PolicyView(arn, arn, tracking=config.target_tracking(raw, "e", "v", 300.0))


def stepping(cooldown: float = 60.0, kind: str = "ChangeInCapacity", arn: str = "st") -> PolicyView:
    raw = {"AdjustmentType": kind, "Cooldown": cooldown, "StepAdjustments": [
        {"MetricIntervalUpperBound": 0.0, "ScalingAdjustment": -1},
        {"MetricIntervalLowerBound": 0.0, "MetricIntervalUpperBound": 50.0, "ScalingAdjustment": 1},
        {"MetricIntervalLowerBound": 50.0, "ScalingAdjustment": 3}]}
    return PolicyView(arn, arn, step=config.step_scaling(raw, 300.0))


def high(value: float, arn: str = "tt") -> Signal:
    return Signal(arn, arn, f"{arn}-AlarmHigh", True, value)


def low(value: float, arn: str = "tt") -> Signal:
    return Signal(arn, arn, f"{arn}-AlarmLow", False, value)


def seen(desired: int, serving: int | None = None, *signals: Signal, policies: tuple[PolicyView, ...] | None = None,
         lo: int = 1, hi: int = 10, blocked: str | None = None) -> Observation:
    return Observation("e", "v", True, desired, desired if serving is None else serving, blocked, lo, hi,
                       policies=policies if policies is not None else (tracking(),), signals=signals)


def kinds(actions: list[object]) -> list[str]:
    return [type(a).__name__ for a in actions]


def test_target_tracking_scales_out_proportionally_then_the_activity_succeeds_when_all_are_healthy() -> None:
    state, actions = step(TargetState(), seen(1, 1, high(350.0)), T0, LIMITS)  # 350/min on one, target 100
    assert kinds(actions) == ["StartActivity", "SetCapacity"]
    start, setting = actions
    assert isinstance(setting, SetCapacity) and setting.capacity == 4
    assert isinstance(start, StartActivity) and start.description == "Setting desired instance count to 4."
    assert start.cause == "monitor alarm tt-AlarmHigh in state ALARM triggered policy tt"
    # instances starting: nothing more happens (one change at a time), the activity stays in progress
    state, actions = step(state, seen(4, 1, high(350.0), blocked="endpoint e is Updating"), T0 + 1, LIMITS)
    assert actions == []
    state, actions = step(state, seen(4, 3, high(350.0), blocked="endpoint e is Updating"), T0 + 2, LIMITS)
    assert actions == []
    state, actions = step(state, seen(4, 4), T0 + 3, LIMITS)
    (done,) = actions
    assert isinstance(done, FinishActivity) and done.status == "Successful" and done.activity_id == setting.activity_id
    assert state.activity is None


def test_the_scale_out_cooldown_blocks_the_same_scale_out_but_not_a_larger_one() -> None:
    state, _ = step(TargetState(), seen(1, 1, high(250.0)), T0, LIMITS)
    state, _ = step(state, seen(3, 3), T0 + 10, LIMITS)
    # the alarm still holds the datapoint measured on one instance: sized on that base, nothing to add
    state, actions = step(state, seen(3, 3, high(250.0)), T0 + 20, LIMITS)
    assert actions == []
    # more load than the first scale-out was sized for: a larger scale-out goes ahead during the cooldown
    state, actions = step(state, seen(3, 3, high(600.0)), T0 + 30, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [6]
    state, _ = step(state, seen(6, 6), T0 + 40, LIMITS)
    # after the cooldown, sizing uses the healthy instances again
    state, actions = step(state, seen(6, 6, high(150.0)), T0 + 30 + 301, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [9]


def test_scale_in_needs_alarm_low_never_overshoots_the_target_and_waits_for_its_cooldown() -> None:
    state, actions = step(TargetState(), seen(8, 8, low(20.0)), T0, LIMITS)  # 160/min over 8 → 2 instances
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [2]
    state, _ = step(state, seen(2, 2), T0 + 5, LIMITS)
    state, actions = step(state, seen(2, 2, low(40.0)), T0 + 100, LIMITS)  # within the 300 s scale-in cooldown
    assert actions == []
    state, actions = step(state, seen(2, 2, low(40.0)), T0 + 306, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [1]


def test_a_scale_out_cuts_the_scale_in_cooldown_short() -> None:
    state, _ = step(TargetState(), seen(4, 4, low(20.0)), T0, LIMITS)
    state, _ = step(state, seen(1, 1), T0 + 1, LIMITS)
    state, _ = step(state, seen(1, 1, high(300.0)), T0 + 2, LIMITS)
    state, _ = step(state, seen(3, 3), T0 + 3, LIMITS)
    assert state.last_in_at is None


def test_min_and_max_bound_the_capacity_and_a_refused_wish_is_a_not_scaled_activity_once() -> None:
    state, actions = step(TargetState(), seen(3, 3, high(1000.0), hi=5), T0, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [5]
    state, _ = step(state, seen(5, 5, hi=5), T0 + 1, LIMITS)
    state, actions = step(state, seen(5, 5, high(1000.0), hi=5), T0 + 2, LIMITS)
    (refused,) = actions
    assert isinstance(refused, NotScaled) and refused.reasons == ({"Code": "AlreadyAtMaxCapacity", "MaxCapacity": 5},)
    assert refused.description == "Attempting to scale due to alarm triggered"
    state, actions = step(state, seen(5, 5, high(1000.0), hi=5), T0 + 3, LIMITS)
    assert actions == []  # recorded once ...
    state, actions = step(state, seen(5, 5, high(1000.0), hi=5), T0 + 63, LIMITS)
    assert kinds(actions) == ["NotScaled"]  # ... and again after a while
    state, actions = step(TargetState(), seen(2, 2, low(1.0), lo=2), T0, LIMITS)
    assert isinstance(actions[0], NotScaled) and actions[0].reasons[0] == {"Code": "AlreadyAtMinCapacity",
                                                                             "MinCapacity": 2}


def test_a_capacity_outside_a_new_range_is_brought_into_it() -> None:
    _, actions = step(TargetState(), seen(1, 1, lo=2), T0, LIMITS)
    start, setting = actions
    assert isinstance(setting, SetCapacity) and setting.capacity == 2
    assert isinstance(start, StartActivity) and start.cause == "minimum capacity was set to 2"
    _, actions = step(TargetState(), seen(7, 7, hi=4), T0, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [4]


def test_no_scaling_while_a_deployment_runs_and_the_wish_is_explained() -> None:
    blocked = "a deployment is running on endpoint e"
    state, actions = step(TargetState(), seen(1, 1, high(500.0), blocked=blocked), T0, LIMITS)
    (refused,) = actions
    assert isinstance(refused, NotScaled)
    assert refused.reasons == ({"Code": "TargetServicePutResourceAsUnscalable", "CurrentCapacity": 1},)
    assert blocked in refused.cause
    state, actions = step(state, seen(1, 1, high(500.0)), T0 + 5, LIMITS)  # the deployment is over
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [5]


def test_suspended_directions_do_not_scale() -> None:
    out = replace(seen(1, 1, high(500.0)), scale_out_suspended=True)
    assert step(TargetState(), out, T0, LIMITS)[1] == []
    inward = replace(seen(4, 4, low(10.0)), scale_in_suspended=True)
    assert step(TargetState(), inward, T0, LIMITS)[1] == []


def test_several_policies_scale_out_if_any_asks_and_in_only_if_all_agree() -> None:
    both = (tracking(arn="a"), tracking(target=10.0, arn="b"))
    _, actions = step(TargetState(), seen(2, 2, high(150.0, "a"), policies=both), T0, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [3]
    _, actions = step(TargetState(), seen(4, 4, low(10.0, "a"), policies=both), T0, LIMITS)
    assert actions == []  # b does not agree
    _, actions = step(TargetState(), seen(4, 4, low(10.0, "a"), low(2.0, "b"), policies=both), T0, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [1]  # the larger of 1 and 1
    _, actions = step(TargetState(), seen(4, 4, low(10.0, "a"), high(50.0, "b"), policies=both), T0, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [10]  # b wants 20; MaxCapacity 10
    policies = (tracking(arn="a"), tracking(arn="b", disable_in=True))
    _, actions = step(TargetState(), seen(4, 4, low(10.0, "a"), policies=policies), T0, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [1]  # b never scales in


def test_step_scaling_applies_the_step_holding_the_breach_and_its_cooldown() -> None:
    policy = (stepping(),)

    def alarm(value: float) -> Signal:
        return Signal("st", "st", "busy", True, value, threshold=100.0)

    state, actions = step(TargetState(), seen(2, 2, alarm(130.0), policies=policy), T0, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [3]
    state, _ = step(state, seen(3, 3, policies=policy), T0 + 1, LIMITS)
    state, actions = step(state, seen(3, 3, alarm(170.0), policies=policy), T0 + 30, LIMITS)
    assert actions == []  # the policy's 60 s cooldown
    state, actions = step(state, seen(3, 3, alarm(170.0), policies=policy), T0 + 61, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [6]
    percent = (stepping(kind="PercentChangeInCapacity"),)
    _, actions = step(TargetState(), seen(4, 4, alarm(100.0 + 60.0), policies=percent), T0, LIMITS)
    assert [a.capacity for a in actions if isinstance(a, SetCapacity)] == [4 + 1]  # 3 % of 4 rounds up to 1


def test_a_capacity_set_by_someone_else_overrides_the_activity_and_a_stuck_one_is_unfulfilled() -> None:
    state, _ = step(TargetState(), seen(1, 1, high(300.0)), T0, LIMITS)
    state, actions = step(state, seen(5, 1), T0 + 1, LIMITS)
    assert isinstance(actions[0], FinishActivity) and actions[0].status == "Overridden"
    state, _ = step(TargetState(), seen(1, 1, high(300.0)), T0, LIMITS)
    state, actions = step(state, seen(3, 2, blocked="endpoint e is Updating"), T0 + 601, LIMITS)
    assert isinstance(actions[0], FinishActivity) and actions[0].status == "Unfulfilled"


def test_a_vanished_variant_deregisters_its_target() -> None:
    _, actions = step(TargetState(), Observation("e", "v", exists=False), T0, LIMITS)
    assert isinstance(actions[0], Deregister)
