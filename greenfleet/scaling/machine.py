"""The scaling controller, pure: ``step(state, observation, now) -> (state, actions)`` for one scalable target.

Each step it first follows the activity in progress (Successful once the variant runs the capacity it was
set to with every instance healthy; Overridden when someone else set another capacity; Unfulfilled after
``activity_timeout_s``), then brings the capacity into [MinCapacity, MaxCapacity], then asks the policies
(policy.py) and applies cooldowns, suspension and the limits. It never scales while a deployment runs on the
endpoint or while the endpoint is not InService (SageMaker blocks scaling while an endpoint is Updating);
a wish it cannot carry out is recorded as a not-scaled activity with its NotScaledReasons (once per reason,
again after ``not_scaled_repeat_s``). Actions are absolute: set the variant's DesiredInstanceCount to N."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from greenfleet.scaling.policy import PolicyView, Proposal, Signal, choose, proposals

NOT_SCALED_REPEAT_S = 60.0


class Activity(BaseModel):
    id: str
    capacity: int
    started_at: float


class NotScaledMark(BaseModel):
    code: str
    capacity: int
    at: float


class TargetState(BaseModel):
    """Persisted in the target's row."""

    last_out_at: float | None = None
    last_out_base: int | None = None
    last_out_cooldown_s: float = 0.0
    last_in_at: float | None = None
    last_in_cooldown_s: float = 0.0
    step_fired_at: dict[str, float] = Field(default_factory=dict)
    activity: Activity | None = None
    not_scaled: NotScaledMark | None = None


@dataclass(frozen=True)
class Observation:
    endpoint: str
    variant: str
    exists: bool
    desired: int = 0
    serving: int = 0
    """Healthy instances of the variant (in the current fleet)."""
    blocked: str | None = None
    """Why the endpoint cannot be scaled now (a deployment runs, it is not InService), if so."""
    min_capacity: int = 1
    max_capacity: int = 1
    scale_in_suspended: bool = False
    scale_out_suspended: bool = False
    policies: tuple[PolicyView, ...] = ()
    signals: tuple[Signal, ...] = ()


@dataclass(frozen=True)
class SetCapacity:
    endpoint: str
    variant: str
    capacity: int
    activity_id: str


@dataclass(frozen=True)
class StartActivity:
    activity_id: str
    description: str
    cause: str
    at: float


@dataclass(frozen=True)
class FinishActivity:
    activity_id: str
    status: str
    message: str
    at: float


@dataclass(frozen=True)
class NotScaled:
    activity_id: str
    description: str
    cause: str
    reasons: tuple[dict[str, int | str], ...]
    at: float


@dataclass(frozen=True)
class Deregister:
    reason: str


Action = SetCapacity | StartActivity | FinishActivity | NotScaled | Deregister


@dataclass(frozen=True)
class Limits:
    activity_timeout_s: float = 900.0
    not_scaled_repeat_s: float = NOT_SCALED_REPEAT_S
    new_id: Callable[[], str] = field(default=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class Wish:
    capacity: int | None
    cause: str = ""
    proposal: Proposal | None = None
    refused: str | None = None
    """A NotScaledReasons code when the limits refuse the proposal (AlreadyAtMax/MinCapacity)."""


def step(state: TargetState, seen: Observation, now: float, limits: Limits | None = None
         ) -> tuple[TargetState, list[Action]]:
    limits = limits or Limits()
    if not seen.exists:
        return state, [Deregister(f"the variant {seen.variant} of endpoint {seen.endpoint} no longer exists")]
    state = state.model_copy(deep=True)
    actions: list[Action] = []
    _follow(state, seen, now, limits, actions)
    if state.activity is not None:
        return state, actions  # one change at a time: the next waits until this one is done
    wish = _wanted(state, seen, now)
    if wish.refused is not None and wish.proposal is not None:
        _not_scaled(state, actions, now, limits, wish.refused, wish.proposal.capacity, seen,
                    "Attempting to scale due to alarm triggered", wish.cause)
        return state, actions
    wanted, proposal = wish.capacity, wish.proposal
    if wanted is None or wanted == seen.desired:
        return state, actions
    growing = wanted > seen.desired
    if seen.blocked is not None:
        _not_scaled(state, actions, now, limits, "TargetServicePutResourceAsUnscalable", wanted, seen,
                    f"Attempting to scale due to {_why(proposal)}", f"{wish.cause}; not scaled: {seen.blocked}")
        return state, actions
    state.not_scaled = None
    activity_id = limits.new_id()
    state.activity = Activity(id=activity_id, capacity=wanted, started_at=now)
    if proposal is not None and proposal.policy.tracking is not None:
        if growing:
            state.last_out_at, state.last_out_base = now, max(seen.serving, 1)
            state.last_out_cooldown_s = proposal.policy.tracking.scale_out_cooldown_s
            state.last_in_at = None  # a scale-out cuts a scale-in cooldown short
        else:
            state.last_in_at, state.last_in_cooldown_s = now, proposal.policy.tracking.scale_in_cooldown_s
    elif proposal is not None:
        state.step_fired_at[proposal.policy.arn] = now
    actions += [StartActivity(activity_id, f"Setting desired instance count to {wanted}.", wish.cause, now),
                SetCapacity(seen.endpoint, seen.variant, wanted, activity_id)]
    return state, actions


def _follow(state: TargetState, seen: Observation, now: float, limits: Limits, actions: list[Action]) -> None:
    activity = state.activity
    if activity is None:
        return
    if seen.desired != activity.capacity:
        actions.append(FinishActivity(activity.id, "Overridden", f"The desired instance count was set to "
                                      f"{seen.desired} by another change before this one was fulfilled.", now))
    elif seen.serving == activity.capacity and seen.blocked is None:
        actions.append(FinishActivity(activity.id, "Successful", f"Successfully set desired instance count to "
                                      f"{activity.capacity}. Change successfully fulfilled by sagemaker.", now))
    elif now - activity.started_at > limits.activity_timeout_s:
        actions.append(FinishActivity(activity.id, "Unfulfilled", f"{seen.serving} of {activity.capacity} "
                                      f"instances healthy after {limits.activity_timeout_s:g} s.", now))
    else:
        return
    state.activity = None


def _wanted(state: TargetState, seen: Observation, now: float) -> Wish:
    """The capacity to set, its cause and the proposal it comes from (none: the limits moved it)."""
    if seen.desired < seen.min_capacity:
        return Wish(seen.min_capacity, f"minimum capacity was set to {seen.min_capacity}")
    if seen.desired > seen.max_capacity:
        return Wish(seen.max_capacity, f"maximum capacity was set to {seen.max_capacity}")
    cooling_out = state.last_out_at is not None and now < state.last_out_at + state.last_out_cooldown_s
    outs, ins = proposals(list(seen.policies), list(seen.signals), seen.desired, seen.serving,
                          out_base=state.last_out_base if cooling_out else None, floor=min(1, seen.min_capacity))
    outs = [p for p in outs if _step_ready(state, p, now)]
    ins = [p for p in ins if _step_ready(state, p, now) and not _in_cooling(state, p, now)]
    if seen.scale_out_suspended:
        outs = []
    if seen.scale_in_suspended:
        ins = []
    chosen = choose(outs, ins)
    if chosen is None:
        return Wish(None)
    bounded = min(max(chosen.capacity, seen.min_capacity), seen.max_capacity)
    if bounded == seen.desired:
        code = "AlreadyAtMaxCapacity" if chosen.capacity > seen.desired else "AlreadyAtMinCapacity"
        return Wish(None, chosen.cause, chosen, refused=code)
    return Wish(bounded, chosen.cause, chosen)


def _step_ready(state: TargetState, proposal: Proposal, now: float) -> bool:
    step = proposal.policy.step
    if step is None:
        return True
    fired = state.step_fired_at.get(proposal.policy.arn)
    return fired is None or now >= fired + step.cooldown_s


def _in_cooling(state: TargetState, proposal: Proposal, now: float) -> bool:
    if proposal.policy.tracking is None:
        return False
    return state.last_in_at is not None and now < state.last_in_at + state.last_in_cooldown_s


def _why(proposal: Proposal | None) -> str:
    return "alarm triggered" if proposal is not None else "a capacity limit"


def _not_scaled(state: TargetState, actions: list[Action], now: float, limits: Limits, code: str, wanted: int,
                seen: Observation, description: str, cause: str) -> None:
    mark = state.not_scaled
    repeated = mark is not None and mark.code == code and mark.capacity == wanted
    if repeated and mark is not None and now - mark.at < limits.not_scaled_repeat_s:
        return
    state.not_scaled = NotScaledMark(code=code, capacity=wanted, at=now)
    reason: dict[str, int | str] = {"Code": code, "CurrentCapacity": seen.desired}
    if code == "AlreadyAtMaxCapacity":
        reason = {"Code": code, "MaxCapacity": seen.max_capacity}
    elif code == "AlreadyAtMinCapacity":
        reason = {"Code": code, "MinCapacity": seen.min_capacity}
    actions.append(NotScaled(limits.new_id(), description, cause, (reason,), now))
