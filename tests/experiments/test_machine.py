"""The experiment controller, tick by tick: statuses, schedules, sampling changes and the stop actions."""

from __future__ import annotations

from dataclasses import replace

from greenfleet.experiments.machine import (
    EnsureShadow,
    ExperimentState,
    Observation,
    Promote,
    RemoveShadow,
    RetainShadow,
    StopRequest,
    step,
)

T0 = 1_000_000.0
DAY = 86400.0


def obs(**changes: object) -> Observation:
    base = Observation(start_at=T0, end_at=T0 + 7 * DAY, sampling=100.0, endpoint_status="InService",
                       promote_config="exp-promoted")
    return replace(base, **changes)  # type: ignore[arg-type]


def running() -> ExperimentState:
    return ExperimentState(status="Running", started_at=T0)


def test_a_future_start_waits_created_then_starts_and_runs_once_the_shadow_is_ready() -> None:
    s, acts = step(ExperimentState(), obs(start_at=T0 + 60), T0)
    assert (s.status, acts) == ("Created", [])
    s, acts = step(s, obs(start_at=T0 + 60), T0 + 30)
    assert (s.status, acts) == ("Created", [])
    s, acts = step(s, obs(start_at=T0 + 60), T0 + 60)  # the StartTime is reached
    assert (s.status, acts) == ("Starting", [EnsureShadow(100.0)])
    s, acts = step(s, obs(endpoint_status="Updating", shadow_sampling=100.0), T0 + 61)
    assert (s.status, acts) == ("Starting", [])  # instances still starting
    s, acts = step(s, obs(shadow_sampling=100.0, shadow_ready=True), T0 + 70)
    assert (s.status, s.started_at, acts) == ("Running", T0 + 70, [])


def test_start_experiment_starts_before_the_scheduled_time() -> None:
    s, acts = step(ExperimentState(status="Created"), obs(start_at=T0 + 3600, start_requested=True), T0)
    assert (s.status, acts) == ("Starting", [EnsureShadow(100.0)])


def test_a_sampling_change_while_running_is_applied_absolutely() -> None:
    s, acts = step(running(), obs(sampling=25.0, shadow_sampling=100.0, shadow_ready=True), T0 + 10)
    assert (s.status, acts) == ("Running", [EnsureShadow(25.0)])
    s, acts = step(s, obs(sampling=25.0, shadow_sampling=25.0, shadow_ready=True), T0 + 11)
    assert acts == []


def test_the_end_time_completes_the_experiment_and_removes_the_shadow() -> None:
    s, acts = step(running(), obs(shadow_sampling=100.0, shadow_ready=True), T0 + 7 * DAY)
    assert (s.status, s.completion_time, acts) == ("Completed", T0 + 7 * DAY, [RemoveShadow()])
    assert step(s, obs(), T0 + 8 * DAY) == (s, [])  # finished: nothing more


def test_stop_remove_and_retain_finish_at_once_in_the_desired_state() -> None:
    s, acts = step(running(), obs(stop=StopRequest("Remove"), shadow_sampling=100.0), T0 + 5)
    assert (s.status, acts) == ("Completed", [RemoveShadow()])
    s, acts = step(running(), obs(stop=StopRequest("Retain", "Cancelled", "enough"), shadow_sampling=100.0), T0 + 5)
    assert (s.status, s.status_reason, s.shadow_outcome, acts) == ("Cancelled", "enough", "Retain", [RetainShadow()])


def test_promote_deploys_then_removes_the_shadow_and_completes_on_success() -> None:
    stop = StopRequest("Promote")
    s, acts = step(running(), obs(stop=stop, shadow_sampling=100.0), T0 + 5)
    assert (s.status, s.promote_config, acts) == ("Stopping", "exp-promoted", [Promote("exp-promoted")])
    s, acts = step(s, obs(stop=stop, shadow_sampling=100.0, promotion_error="endpoint busy"), T0 + 6)
    assert acts == [Promote("exp-promoted")] and "endpoint busy" in (s.status_reason or "")  # retried
    s, acts = step(s, obs(stop=stop, shadow_sampling=100.0, promotion="running", endpoint_status="Updating"), T0 + 7)
    assert (s.status, acts) == ("Stopping", [RemoveShadow()])
    s, acts = step(s, obs(stop=stop, promotion="running", endpoint_status="Updating"), T0 + 8)
    assert (s.status, acts) == ("Stopping", [])
    s, acts = step(s, obs(stop=stop, promotion="succeeded"), T0 + 20)
    assert (s.status, s.completion_time, acts) == ("Completed", T0 + 20, [])


def test_a_rolled_back_promotion_completes_and_says_so() -> None:
    stop = StopRequest("Promote")
    s, _ = step(ExperimentState(status="Stopping"), obs(stop=stop, promotion="failed"), T0)
    assert s.status == "Completed" and "rolled back" in (s.status_reason or "")


def test_stop_before_start_cancels_and_a_deleted_endpoint_cancels() -> None:
    s, acts = step(ExperimentState(status="Created"), obs(start_at=T0 + 60, stop=StopRequest("Remove")), T0)
    assert (s.status, acts) == ("Cancelled", [])
    s, acts = step(running(), obs(endpoint_status=None), T0)
    assert s.status == "Cancelled" and s.status_reason == "The endpoint was deleted" and acts == []
