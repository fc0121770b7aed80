"""The binding controller, tick by tick (pure: no store, no server)."""

from __future__ import annotations

from greenfleet.registry.binding_machine import (
    BindingState,
    Change,
    Deploy,
    DeploymentSeen,
    Observations,
    RecordOutcome,
    Reject,
    step,
)

T0 = 1_700_000_000.0
S0 = BindingState(endpoint="ep", group="g", cursor=0, target=1)


def obs(**kw: object) -> Observations:
    base: dict[str, object] = {"approved": frozenset({1}), "endpoint_status": "InService", "endpoint_config": "c1",
                               "serving": 1}
    base.update(kw)
    return Observations(**base)  # type: ignore[arg-type]


def test_an_approval_deploys_once_and_waits_for_the_outcome() -> None:
    s, acts = step(S0, obs(changes=(Change(5, 2, "Approved"),), approved=frozenset({1, 2})), T0)
    assert acts == [Deploy(2, "ep-g-v2")] and s.deploying is not None and s.cursor == 5
    running = (DeploymentSeen("d1", "ep-g-v2", T0 + 0.1, None),)
    s, acts = step(s, obs(approved=frozenset({1, 2}), endpoint_status="Updating", deployments=running), T0 + 1)
    assert acts == [] and s.deploying is not None and s.deploying.deployment_id == "d1"
    s, acts = step(s, obs(changes=(Change(5, 2, "Approved"),), approved=frozenset({1, 2}), endpoint_status="Updating",
                          deployments=running), T0 + 2)
    assert acts == []  # the same event again changes nothing
    done = (DeploymentSeen("d1", "ep-g-v2", T0 + 0.1, "SUCCEEDED"),)
    s, acts = step(s, obs(approved=frozenset({1, 2}), endpoint_config="ep-g-v2", serving=2, deployments=done), T0 + 3)
    assert acts == [RecordOutcome(2, "SUCCEEDED", "d1", None)] and s.deploying is None
    s, acts = step(s, obs(approved=frozenset({1, 2}), endpoint_config="ep-g-v2", serving=2, deployments=done), T0 + 4)
    assert acts == []


def test_a_restart_before_the_update_started_reissues_it_after_it_never_twice() -> None:
    s, acts = step(S0, obs(changes=(Change(5, 2, "Approved"),), approved=frozenset({1, 2})), T0)
    assert acts == [Deploy(2, "ep-g-v2")]
    s2, acts = step(s, obs(approved=frozenset({1, 2})), T0 + 5)  # nothing started (crash before apply)
    assert acts == [Deploy(2, "ep-g-v2")] and s2 == s
    running = (DeploymentSeen("d1", "ep-g-v2", T0 + 5, None),)
    _, acts = step(s2, obs(approved=frozenset({1, 2}), endpoint_status="Updating", deployments=running), T0 + 6)
    assert acts == []


def test_rollback_is_recorded_kept_on_the_old_version_and_never_retried() -> None:
    state = S0.model_copy(update={"target": 2})
    s, acts = step(state, obs(changes=(Change(7, 3, "Approved"),), approved=frozenset({1, 2, 3}),
                              endpoint_config="ep-g-v2", serving=2), T0)
    assert acts == [Deploy(3, "ep-g-v3")]
    failed = (DeploymentSeen("d3", "ep-g-v3", T0 + 0.1, "ROLLED_BACK", "alarm 5xx"),)
    s, acts = step(s, obs(approved=frozenset({1, 2, 3}), endpoint_config="ep-g-v2", serving=2, deployments=failed,
                          reject_on_rollback=True), T0 + 9)
    assert acts == [RecordOutcome(3, "ROLLED_BACK", "d3", "alarm 5xx"),
                    Reject(3, "Rolled back on ep: alarm 5xx")]
    assert s.failed == (3,) and s.target == 2 and s.deploying is None
    s, acts = step(s, obs(approved=frozenset({1, 2, 3}), endpoint_config="ep-g-v2", serving=2, deployments=failed),
                   T0 + 10)
    assert acts == []
    # rejecting the live v2 redeploys the latest remaining Approved version that did not fail: v1
    s, acts = step(s, obs(changes=(Change(9, 2, "Rejected"),), approved=frozenset({1, 3}), endpoint_config="ep-g-v2",
                          serving=2, deployments=failed), T0 + 11)
    assert acts == [Deploy(1, "ep-g-v1")] and s.target == 1


def test_an_approval_during_a_deployment_is_queued_and_the_latest_wins() -> None:
    s, _ = step(S0, obs(changes=(Change(5, 2, "Approved"),), approved=frozenset({1, 2})), T0)
    running = (DeploymentSeen("d2", "ep-g-v2", T0 + 0.1, None),)
    s, acts = step(s, obs(changes=(Change(6, 3, "Approved"), Change(7, 4, "Approved")),
                          approved=frozenset({1, 2, 3, 4}), endpoint_status="Updating", deployments=running), T0 + 1)
    assert acts == [] and s.target == 4
    done = (DeploymentSeen("d2", "ep-g-v2", T0 + 0.1, "SUCCEEDED"),)
    s, acts = step(s, obs(approved=frozenset({1, 2, 3, 4}), endpoint_config="ep-g-v2", serving=2, deployments=done),
                   T0 + 2)
    assert acts == [RecordOutcome(2, "SUCCEEDED", "d2", None), Deploy(4, "ep-g-v4")]


def test_a_failure_to_start_counts_as_a_failed_deployment() -> None:
    s, _ = step(S0, obs(changes=(Change(5, 2, "Approved"),), approved=frozenset({1, 2})), T0)
    s, acts = step(s, obs(approved=frozenset({1, 2}), deploy_error="ValidationException: bad"), T0 + 1)
    assert acts == [RecordOutcome(2, "FAILED_TO_START", None, "ValidationException: bad")]
    assert s.failed == (2,) and s.target == 1


def test_registering_as_approved_deploys_and_a_rejected_queued_version_is_dropped() -> None:
    s, acts = step(S0, obs(changes=(Change(3, 2, "Approved"),), approved=frozenset({1, 2})), T0)
    assert acts == [Deploy(2, "ep-g-v2")]
    running = (DeploymentSeen("d2", "ep-g-v2", T0 + 0.1, None),)
    s, _ = step(s, obs(changes=(Change(4, 3, "Approved"),), approved=frozenset({1, 2, 3}), endpoint_status="Updating",
                       deployments=running), T0 + 1)
    assert s.target == 3
    s, _ = step(s, obs(changes=(Change(5, 3, "Rejected"),), approved=frozenset({1, 2}), endpoint_status="Updating",
                       deployments=running), T0 + 2)
    assert s.target == 2  # the latest remaining Approved version: the one being deployed
    done = (DeploymentSeen("d2", "ep-g-v2", T0 + 0.1, "SUCCEEDED"),)
    s, acts = step(s, obs(approved=frozenset({1, 2}), endpoint_config="ep-g-v2", serving=2, deployments=done), T0 + 3)
    assert acts == [RecordOutcome(2, "SUCCEEDED", "d2", None)] and s.deploying is None


def test_nothing_deploys_while_the_endpoint_is_gone_or_busy() -> None:
    s, acts = step(S0, obs(changes=(Change(3, 2, "Approved"),), approved=frozenset({1, 2}), endpoint_status=None), T0)
    assert acts == [] and s.target == 2 and s.cursor == 3
    s, acts = step(s, obs(approved=frozenset({1, 2}), endpoint_status="Updating"), T0 + 1)
    assert acts == [] and s.deploying is None
    s, acts = step(s, obs(approved=frozenset({1, 2})), T0 + 2)
    assert acts == [Deploy(2, "ep-g-v2")]
