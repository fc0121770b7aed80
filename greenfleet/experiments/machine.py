"""The inference experiment controller, pure: ``step(state, observation, now) -> (state, actions)``.

One experiment's life (SageMaker's statuses)::

    Creating ─┬─ start in the future ──> Created ── StartTime reached / StartInferenceExperiment ─┐
              └─────────────────────────────────────────────────────────────────────────────────┴─> Starting
    Starting ── the shadow fleet is ready and the endpoint InService ──> Running
    Running ── EndTime reached (shadow removed) ──────────────────────────────────────────> Completed
    Running ── StopInferenceExperiment ──> Stopping ── actions applied ──> Completed | Cancelled
    (Created ── StopInferenceExperiment ──> Cancelled; the endpoint gone ──> Cancelled)

Actions are absolute and idempotent (the driver applies them after saving): ``EnsureShadow`` (the shadow
fleet exists with this sampling percentage), ``RemoveShadow``, ``RetainShadow`` (it stays, no longer the
experiment's), ``Promote`` (a guarded deployment replacing production with the shadow's model).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel

Status = Literal["Creating", "Created", "Updating", "Starting", "Running", "Stopping", "Completed", "Cancelled"]
FINISHED: frozenset[str] = frozenset({"Completed", "Cancelled"})
VariantAction = Literal["Promote", "Remove", "Retain"]


class ExperimentState(BaseModel):
    status: Status = "Creating"
    status_reason: str | None = None
    started_at: float | None = None
    completion_time: float | None = None
    shadow_outcome: VariantAction | None = None
    """What the stop did with the shadow (for its ModelVariant status)."""
    promote_config: str | None = None
    """The endpoint config a Promote deploys (set once the promotion is asked for)."""


@dataclass(frozen=True)
class StopRequest:
    shadow_action: VariantAction
    desired_state: Literal["Completed", "Cancelled"] = "Completed"
    reason: str | None = None


@dataclass(frozen=True)
class Observation:
    start_at: float
    end_at: float
    sampling: float
    """The SamplingPercentage asked for."""
    start_requested: bool = False
    stop: StopRequest | None = None
    endpoint_status: str | None = None
    """None: the endpoint is gone."""
    shadow_sampling: float | None = None
    """The experiment's shadow fleet's sampling percentage on the endpoint (None: no such fleet)."""
    shadow_ready: bool = False
    promote_config: str = ""
    """The endpoint config a promotion would deploy (a deterministic name)."""
    promotion: Literal["none", "running", "succeeded", "failed"] = "none"
    promotion_error: str | None = None


@dataclass(frozen=True)
class EnsureShadow:
    sampling: float


@dataclass(frozen=True)
class RemoveShadow:
    pass


@dataclass(frozen=True)
class RetainShadow:
    pass


@dataclass(frozen=True)
class Promote:
    config_name: str


Action = EnsureShadow | RemoveShadow | RetainShadow | Promote


@dataclass
class _Next:
    state: ExperimentState
    actions: list[Action] = field(default_factory=list)


def step(state: ExperimentState, obs: Observation, now: float) -> tuple[ExperimentState, list[Action]]:
    if state.status in FINISHED:
        return state, []
    nxt = _Next(state.model_copy())
    if obs.endpoint_status is None and state.status != "Stopping":
        _finish(nxt, "Cancelled", "The endpoint was deleted", now)
        return nxt.state, nxt.actions
    if state.status in ("Creating", "Created"):
        _before_start(nxt, obs, now)
    elif state.status in ("Starting", "Running", "Updating"):
        _live(nxt, obs, now)
    elif state.status == "Stopping":
        _stopping(nxt, obs, now)
    return nxt.state, nxt.actions


def _before_start(nxt: _Next, obs: Observation, now: float) -> None:
    if obs.stop is not None:
        _finish(nxt, "Cancelled", obs.stop.reason or "Stopped before it started", now)
    elif obs.start_requested or now >= obs.start_at:
        nxt.state.status = "Starting"
        nxt.actions.append(EnsureShadow(obs.sampling))
    else:
        nxt.state.status = "Created"


def _live(nxt: _Next, obs: Observation, now: float) -> None:
    if obs.stop is not None:
        nxt.state.status = "Stopping"
        _stopping(nxt, obs, now)
        return
    if now >= obs.end_at:
        nxt.state.status, nxt.state.status_reason = "Stopping", "The schedule's EndTime was reached"
        nxt.state.shadow_outcome = "Remove"
        nxt.actions.append(RemoveShadow())
        _finish(nxt, "Completed", "The schedule's EndTime was reached", now)
        return
    if obs.shadow_sampling != obs.sampling:
        nxt.actions.append(EnsureShadow(obs.sampling))
    if nxt.state.status == "Starting" and obs.shadow_sampling is not None and obs.shadow_ready \
            and obs.endpoint_status == "InService":
        nxt.state.status, nxt.state.started_at = "Running", now


def _stopping(nxt: _Next, obs: Observation, now: float) -> None:
    stop = obs.stop
    if stop is None:  # a stop the schedule asked for, already applied
        _finish(nxt, "Completed", nxt.state.status_reason, now)
        return
    nxt.state.shadow_outcome = stop.shadow_action
    if stop.shadow_action == "Remove":
        nxt.actions.append(RemoveShadow())
    elif stop.shadow_action == "Retain":
        nxt.actions.append(RetainShadow())
    else:
        _promoting(nxt, obs, stop, now)
        return
    _finish(nxt, stop.desired_state, stop.reason, now)


def _promoting(nxt: _Next, obs: Observation, stop: StopRequest, now: float) -> None:
    nxt.state.promote_config = obs.promote_config
    if obs.promotion == "none":
        if obs.promotion_error is not None:
            nxt.state.status_reason = f"Promotion waits: {obs.promotion_error}"
        if obs.endpoint_status is None:
            _finish(nxt, "Cancelled", "The endpoint was deleted before the promotion", now)
            return
        nxt.actions.append(Promote(obs.promote_config))
    elif obs.promotion == "running":
        nxt.state.status_reason = "Promoting the shadow variant through a guarded deployment"
        if obs.shadow_sampling is not None:
            nxt.actions.append(RemoveShadow())
    elif obs.promotion == "succeeded":
        if obs.shadow_sampling is not None:
            nxt.actions.append(RemoveShadow())
        _finish(nxt, stop.desired_state, stop.reason or "The shadow variant was promoted to production", now)
    else:
        if obs.shadow_sampling is not None:
            nxt.actions.append(RemoveShadow())
        _finish(nxt, stop.desired_state, "The promotion's deployment rolled back; production is unchanged", now)


def _finish(nxt: _Next, status: Literal["Completed", "Cancelled"], reason: str | None, now: float) -> _Next:
    nxt.state.status, nxt.state.status_reason, nxt.state.completion_time = status, reason, now
    return nxt
