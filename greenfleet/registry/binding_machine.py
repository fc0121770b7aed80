"""The binding controller, pure: ``step(state, observations, now) -> (state, actions)``.

A binding ties a model package group to an endpoint variant. Its state remembers the last audit entry it
has handled (``cursor``), the version that should serve (``target``: the latest approval wins, so an
approval landing while a deployment runs is queued), the deployment it asked for (``deploying``) and the
versions rolled back since their last approval (``failed``; never retried until approved again).

What serves is observed, never assumed: ``serving`` is the group's version behind the bound variant of
the endpoint's current config (the ``champion``). Rejecting (or deleting) the target or the serving version
retargets the latest remaining Approved version that has not failed.

Actions are absolute: ``Deploy`` means "the endpoint should be moving to this version's config" and the
driver does nothing when it already is; ``RecordOutcome`` is saved with the state (exactly once);
``Reject`` sets a status (re-applying it changes nothing)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict

from greenfleet.registry.names import config_name as config_name_for

APPROVED = "Approved"
IDLE = "InService"
SUCCEEDED = "SUCCEEDED"


class Deploying(BaseModel):
    model_config = ConfigDict(frozen=True)

    version: int
    config_name: str
    requested_at: float
    deployment_id: str | None = None


class BindingState(BaseModel):
    model_config = ConfigDict(frozen=True)

    endpoint: str
    group: str
    cursor: int = 0
    target: int | None = None
    deploying: Deploying | None = None
    failed: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Change:
    """One audit entry of the group: a registration (``to_status`` its initial status), an approval
    change, or a deletion (``to_status`` None)."""

    seq: int
    version: int
    to_status: str | None


@dataclass(frozen=True, slots=True)
class DeploymentSeen:
    deployment_id: str
    to_config: str
    started_at: float
    outcome: str | None
    failure_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Observations:
    changes: tuple[Change, ...] = ()
    approved: frozenset[int] = frozenset()
    endpoint_status: str | None = None  # None: the endpoint does not exist
    endpoint_config: str | None = None
    serving: int | None = None
    deployments: tuple[DeploymentSeen, ...] = ()
    deploy_error: str | None = None  # the driver's last failure to start ``deploying``
    reject_on_rollback: bool = False


@dataclass(frozen=True, slots=True)
class Deploy:
    version: int
    config_name: str


@dataclass(frozen=True, slots=True)
class RecordOutcome:
    version: int
    outcome: str
    deployment_id: str | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Reject:
    version: int
    reason: str


Action = Deploy | RecordOutcome | Reject


@dataclass
class _Work:
    state: BindingState
    actions: list[Action] = field(default_factory=list)


def best_remaining(approved: frozenset[int], failed: tuple[int, ...], excluding: int) -> int | None:
    candidates = [v for v in approved if v != excluding and v not in failed]
    return max(candidates) if candidates else None


def _take_changes(state: BindingState, obs: Observations) -> BindingState:
    target, failed, cursor = state.target, set(state.failed), state.cursor
    for change in obs.changes:
        if change.seq <= cursor:
            continue
        cursor = change.seq
        if change.to_status == APPROVED:
            failed.discard(change.version)
            target = change.version
        elif change.version in (target, obs.serving):
            target = best_remaining(obs.approved, tuple(failed), change.version)
    return state.model_copy(update={"target": target, "failed": tuple(sorted(failed)), "cursor": cursor})


def _follow(work: _Work, obs: Observations, now: float) -> None:
    """A deployment was asked for: wait for it, record its outcome, or (re)issue it."""
    state = work.state
    deploying = state.deploying
    assert deploying is not None
    seen = next((d for d in obs.deployments
                 if d.to_config == deploying.config_name and d.started_at >= deploying.requested_at), None)
    if seen is not None and seen.outcome is None:
        if deploying.deployment_id != seen.deployment_id:
            work.state = state.model_copy(update={"deploying": deploying.model_copy(
                update={"deployment_id": seen.deployment_id})})
        return
    if seen is not None or obs.deploy_error is not None:
        outcome = seen.outcome if seen is not None else "FAILED_TO_START"
        reason = seen.failure_reason if seen is not None else obs.deploy_error
        work.actions.append(RecordOutcome(deploying.version, str(outcome), seen.deployment_id if seen else None,
                                          reason))
        update: dict[str, object] = {"deploying": None}
        if outcome != SUCCEEDED:
            update["failed"] = tuple(sorted({*state.failed, deploying.version}))
            if state.target == deploying.version:
                update["target"] = obs.serving
            if obs.reject_on_rollback and deploying.version in obs.approved:
                work.actions.append(Reject(deploying.version, f"Rolled back on {state.endpoint}: {reason}"))
        work.state = state.model_copy(update=update)
        return
    if obs.endpoint_config == deploying.config_name and obs.endpoint_status == IDLE:
        work.state = state.model_copy(update={"deploying": None})  # already there (e.g. deployed by hand)
    elif obs.endpoint_status == IDLE:
        work.actions.append(Deploy(deploying.version, deploying.config_name))  # not started yet: (re)issue


def step(state: BindingState, obs: Observations, now: float) -> tuple[BindingState, list[Action]]:
    work = _Work(_take_changes(state, obs))
    if obs.endpoint_status is None:
        return work.state, work.actions  # the endpoint is gone: remember approvals, deploy nothing
    if work.state.deploying is not None:
        _follow(work, obs, now)
    state = work.state
    wanted = state.target
    if state.deploying is None and wanted is not None and wanted != obs.serving and wanted in obs.approved \
            and wanted not in state.failed and obs.endpoint_status == IDLE:
        deploying = Deploying(version=wanted, config_name=config_name_for(state.endpoint, state.group, wanted),
                              requested_at=now)
        work.state = state.model_copy(update={"deploying": deploying})
        work.actions.append(Deploy(wanted, deploying.config_name))
    return work.state, work.actions
