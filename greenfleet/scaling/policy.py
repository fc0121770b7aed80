"""Pure sizing: what each policy asks for, given what its alarms say.

Target tracking is proportional: the load the variant carries is ``metric x serving instances`` (the
predefined metrics are per instance, and a customized metric is assumed to be as well), so the capacity
that brings the metric back to the target is ``ceil(serving x metric / target)``; ``serving`` is the number of
healthy instances, so capacity still starting is not counted twice. Scale-out takes that capacity as soon as
AlarmHigh is in ALARM; scale-in only when AlarmLow is, and removing capacity never pushes the metric above the
target (the ceiling); it reaches zero only for a target whose MinCapacity is 0 (an asynchronous variant) and
only when the metric is zero (an empty backlog). Step scaling applies the step that holds the breach (metric
minus threshold).

Several policies: scale out if any asks to (the largest capacity wins); scale in only if every
target-tracking policy with scale-in enabled asks to (step policies scale in on their own)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from greenfleet.scaling.config import StepScaling, TargetTracking

EPSILON = 1e-9


@dataclass(frozen=True)
class Signal:
    """A policy's alarm in ALARM: ``value`` is the alarm's latest datapoint (in the target's terms for target
    tracking; the raw metric for step scaling, with the alarm's ``threshold``)."""

    policy_arn: str
    policy_name: str
    alarm_name: str
    high: bool
    value: float
    threshold: float = 0.0


@dataclass(frozen=True)
class PolicyView:
    arn: str
    name: str
    tracking: TargetTracking | None = None
    step: StepScaling | None = None


@dataclass(frozen=True)
class Proposal:
    capacity: int
    policy: PolicyView
    signal: Signal

    @property
    def cause(self) -> str:
        return f"monitor alarm {self.signal.alarm_name} in state ALARM triggered policy {self.policy.name}"


def tracking_capacity(policy: TargetTracking, serving: int, value: float) -> int:
    return max(0, math.ceil(serving * value / policy.target - EPSILON))


def step_capacity(policy: StepScaling, current: int, signal: Signal) -> int | None:
    step = policy.step_for(signal.value - signal.threshold)
    if step is None:
        return None
    if policy.adjustment_type == "ExactCapacity":
        return step.adjustment
    if policy.adjustment_type == "ChangeInCapacity":
        return current + step.adjustment
    change = current * step.adjustment / 100.0
    delta = int(change)  # truncated towards zero
    if step.adjustment and delta == 0:
        delta = 1 if step.adjustment > 0 else -1
    magnitude = policy.min_magnitude
    if magnitude is not None and abs(delta) < magnitude:
        delta = magnitude if delta > 0 else -magnitude
    return current + delta


def proposals(policies: list[PolicyView], signals: list[Signal], current: int, serving: int,
              out_base: int | None = None, floor: int = 1) -> tuple[list[Proposal], list[Proposal]]:
    """(scale-out proposals, scale-in proposals) above / below ``current``. ``out_base``: while a target-tracking
    scale-out cooldown runs, the healthy capacity that scale-out was sized on (a larger scale-out than the
    one in progress is still taken). ``floor``: the least capacity target tracking scales in to (0 for a
    variant allowed to scale to zero, an asynchronous one whose backlog is empty; else 1)."""
    by_arn = {p.arn: p for p in policies}
    outs: list[Proposal] = []
    ins: list[Proposal] = []
    wanting_in: set[str] = set()
    for signal in signals:
        policy = by_arn.get(signal.policy_arn)
        if policy is None:
            continue
        if policy.tracking is not None:
            base = max(serving, 1) if current > 0 else 1
            if signal.high:
                sized = tracking_capacity(policy.tracking, out_base if out_base is not None else base, signal.value)
                if sized > current:
                    outs.append(Proposal(sized, policy, signal))
            elif not policy.tracking.disable_scale_in:
                sized = max(floor, tracking_capacity(policy.tracking, base, signal.value))
                if sized < current:
                    ins.append(Proposal(sized, policy, signal))
                    wanting_in.add(policy.arn)
        elif policy.step is not None:
            sized_step = step_capacity(policy.step, current, signal)
            if sized_step is None:
                continue
            if sized_step > current:
                outs.append(Proposal(sized_step, policy, signal))
            elif sized_step < current:
                ins.append(Proposal(sized_step, policy, signal))
    trackers = {p.arn for p in policies if p.tracking is not None and not p.tracking.disable_scale_in}
    if not trackers <= wanting_in:  # a target-tracking scale-in needs every such policy to agree
        ins = [p for p in ins if p.policy.tracking is None]
    return outs, ins


def choose(outs: list[Proposal], ins: list[Proposal]) -> Proposal | None:
    """Scale out if any policy asks to (the largest capacity), else scale in (the largest capacity asked)."""
    if outs:
        return max(outs, key=lambda p: p.capacity)
    if ins:
        return max(ins, key=lambda p: p.capacity)
    return None
