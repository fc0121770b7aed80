"""Webhook and load-test checks at their points, tick by tick, with a restart between every two ticks."""

from __future__ import annotations

from greenfleet.rollout import CheckStatus, Phase, RunCheck, step
from greenfleet.rollout.state import CauseKind

from .scenarios import SCENARIOS, Scenario, blue_green, extended, step_list, webhook
from .test_machine import shares
from .world import FakeWorld, Tick, drive

CHECKS = [
    webhook("integration", "PRE_TRAFFIC", TimeoutInSeconds=10, Retries=2, Metadata={"suite": "smoke"}),
    webhook("step-smoke", "STEP"),
    webhook("confirm", "PRE_PROMOTION"),
    webhook("notify", "POST_COMPLETION"),
    webhook("page", "POST_ROLLBACK"),
]
CHECKED = step_list((10, 20), (50, 20), (100, 0), Checks=CHECKS)


def run_checks(ticks: list[Tick]) -> list[RunCheck]:
    return [a for t in ticks for a in t.actions if isinstance(a, RunCheck)]


def test_checks_run_at_their_points_and_gate_progress() -> None:
    state, world, _ = Scenario(CHECKED).start()
    state, ticks = drive(state, world, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED
    assert shares(ticks) == [0, 10, 50, 100]
    started = {ident: at for ident, (_, at) in world.check_started.items()}
    assert started == {
        "d-1/integration": 10,  # green ready, no traffic yet
        "d-1/step-smoke/0": 35,  # after the 20 s bake of step 1 (traffic at 15)
        "d-1/step-smoke/1": 60,
        "d-1/confirm": 65,  # before all traffic moves
        "d-1/step-smoke/2": 75,  # all traffic at 70 (bake 0), over on the next tick
    }
    # No traffic on green before the pre-traffic check passed (it answers 5 s after it started).
    assert all(t.traffic["c2"] == 0 for t in ticks if t.now < 15)
    assert next(t.now for t in ticks if t.traffic["c2"] == 10) == 15
    assert [c.name for c in world.notifications] == ["notify"] and not world.notifications[0].report
    assert [o.name for o in state.check_outcomes] == [
        "integration",
        "step-smoke",
        "step-smoke",
        "confirm",
        "step-smoke",
    ]
    assert all(o.passed for o in state.check_outcomes)


def test_run_check_carries_the_webhook_spec_and_is_repeated_until_answered() -> None:
    state, world, _ = Scenario(CHECKED).start(FakeWorld(check_delay_s=12))
    state, ticks = drive(state, world, roundtrip=True)
    first = [a for a in run_checks(ticks) if a.check_id == "d-1/integration"]
    assert len(first) == 3  # ticks at 10, 15, 20: pending; answered at 22 -> seen at 25
    check = first[0]
    assert (check.url, check.timeout_s, check.retries, check.fleet_id, check.report) == (
        "https://hooks.example/integration",
        10.0,
        2,
        "c2",
        True,
    )
    assert check.payload["Point"] == "PRE_TRAFFIC" and check.payload["Metadata"] == {"suite": "smoke"}
    assert check.payload["NewFleetTrafficPercent"] == 0 and check.payload["NewEndpointConfigName"] == "c2"
    assert len(world.check_started) == 5  # each id started once


def test_failing_pre_traffic_check_keeps_all_traffic_on_blue() -> None:
    world = FakeWorld(check_verdicts={"integration": CheckStatus.FAILED})
    state, world, _ = Scenario(CHECKED).start(world)
    state, ticks = drive(state, world, roundtrip=True)
    assert state.phase is Phase.ROLLED_BACK
    assert all(t.traffic == {"c1": 100, "c2": 0} for t in ticks)
    assert state.rollback_cause is not None and state.rollback_cause.kind is CauseKind.CHECK_FAILED
    assert state.failure_reason == (
        "Deployment rolled back because check 'integration' (PRE_TRAFFIC): HTTP 500 failed during the checks "
        "before step 1 of 3."
    )
    assert [c.name for c in world.notifications] == ["page"]
    assert world.notifications[0].payload["FailureReason"] == state.failure_reason
    assert world.running("c2") == 0


def test_failing_step_check_rolls_back_from_the_split() -> None:
    world = FakeWorld(check_verdicts={"step-smoke": CheckStatus.FAILED})
    state, world, _ = Scenario(CHECKED).start(world)
    state, ticks = drive(state, world, roundtrip=True)
    assert state.phase is Phase.ROLLED_BACK
    assert max(t.traffic["c2"] for t in ticks) == 10
    assert "'step-smoke' (STEP): HTTP 500 failed during the checks after step 1 of 3" in (state.failure_reason or "")


def test_silent_check_fails_after_its_budget() -> None:
    world = FakeWorld(silent_checks={"confirm"})
    state, world, _ = Scenario(CHECKED).start(world)
    state, ticks = drive(state, world, roundtrip=True)
    assert state.phase is Phase.ROLLED_BACK
    started = world.check_started["d-1/confirm"][1]
    failed_at = next(t.now for t in ticks if t.phase is Phase.ROLLING_BACK)
    assert failed_at - started == 40  # 10 s timeout x 1 attempt + 30 s grace
    assert "'confirm' (PRE_PROMOTION): no result within 40 s" in (state.failure_reason or "")
    assert max(t.traffic["c2"] for t in ticks) == 50  # never promoted


def test_checks_on_sagemaker_strategies() -> None:
    raw = extended(blue_green("CANARY", 30, ("CAPACITY_PERCENT", 10)), Checks=[webhook("confirm", "PRE_PROMOTION")])
    state, world, _ = Scenario(raw).start()
    state, _ticks = drive(state, world, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED and list(world.check_started) == ["d-1/confirm"]
    assert world.check_started["d-1/confirm"][1] == 40  # after the canary's bake


def test_load_test_check_is_handed_to_the_driver() -> None:
    load = {"Name": "load", "Point": "PRE_TRAFFIC", "LoadTest": {"PayloadsFile": "s3://b/p.jsonl", "Requests": 50}}
    state, world, _ = Scenario(extended(SCENARIOS["all_at_once"].config, Checks=[load])).start()
    state, _ticks = drive(state, world, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED
    check = world.check_started["d-1/load"][0]
    assert check.url is None and check.load_test is not None and check.load_test.Requests == 50
    assert check.fleet_id == "c2"


def test_a_repeated_result_is_harmless() -> None:
    state, world, _ = Scenario(CHECKED).start()
    state, _ticks = drive(state, world)
    obs = world.observe(1e6, state)  # every check result, again
    assert step(state, obs, 1e6)[0] == state
