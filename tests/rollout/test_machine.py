from __future__ import annotations

import pytest

from greenfleet.errors import ValidationError
from greenfleet.rollout import (
    AlarmObservation,
    AlarmState,
    Command,
    CommandKind,
    Finish,
    Observations,
    Outcome,
    Phase,
    RolloutState,
    SetFleet,
    SetTraffic,
    begin,
    parse_deployment_config,
    step,
)
from greenfleet.rollout.state import ACTIVE_PHASES

from .scenarios import SCENARIOS, Scenario, blue_green
from .world import NEVER, FakeWorld, Instance, Tick, drive, fleet, phases


def shares(ticks: list[Tick]) -> list[int]:
    out = [0]
    for t in ticks:
        if t.traffic["c2"] != out[-1]:
            out.append(t.traffic["c2"])
    return out


def finish(ticks: list[Tick]) -> Finish:
    found = [a for a in ticks[-1].actions if isinstance(a, Finish)]
    assert len(found) == 1
    return found[0]


# --- successful deployments ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_mode_succeeds(name: str) -> None:
    scenario = SCENARIOS[name]
    state, world, _ = scenario.start()
    state, ticks = drive(state, world)
    assert state.phase is Phase.SUCCEEDED
    assert shares(ticks) == scenario.green_shares
    assert finish(ticks) == Finish("d-1", "ep", Outcome.SUCCEEDED, "c2", "c2", None)
    assert world.running("c1") == 0 and world.running("c2") == scenario.size
    assert world.traffic == {"c1": 0, "c2": 100}
    assert phases(ticks)[-2:] == [Phase.DRAINING, Phase.SUCCEEDED]


def test_canary_tick_by_tick() -> None:
    state, world, actions = SCENARIOS["canary_count"].start()
    # begin: green launched at full capacity, blue keeps all traffic.
    assert actions[:3] == [
        SetFleet("c1", "c1", {"AllTraffic": 3}, {"AllTraffic": 1.0}),
        SetTraffic({"c1": 100, "c2": 0}),
        SetFleet("c2", "c2", {"AllTraffic": 3}, {"AllTraffic": 1.0}),
    ]

    def tick(now: float) -> RolloutState:
        nonlocal state
        state, acts = step(state, world.observe(now), now)
        world.apply(acts, now)
        return state

    assert tick(5).phase is Phase.PROVISIONING  # instances get ready at 10
    s = tick(10)  # green ready: canary share, bake starts
    assert (s.phase, s.traffic, s.bake_started_at) == (Phase.BAKING, {"c1": 67, "c2": 33}, 10)
    assert tick(39).phase is Phase.BAKING  # 29 s of 30
    s = tick(40)  # bake over: the rest of the traffic
    assert (s.phase, s.stage_index, s.traffic) == (Phase.BAKING, 1, {"c1": 0, "c2": 100})
    assert tick(41).phase is Phase.TERMINATION_WAIT  # remaining traffic has no bake of its own
    assert tick(60).phase is Phase.TERMINATION_WAIT
    assert tick(61).phase is Phase.DRAINING  # 20 s TerminationWaitInSeconds
    assert world.running("c1") == 3
    s = tick(62)
    assert s.phase is Phase.SUCCEEDED and world.running("c1") == 0


def test_drain_waits_for_in_flight_requests_then_times_out() -> None:
    state, world, _ = SCENARIOS["default"].start()
    world.in_flight["c1"] = 2
    state, ticks = drive(state, world)
    draining = [t.now for t in ticks if t.phase is Phase.DRAINING]
    assert draining[-1] - draining[0] + 5 == 15  # limits.drain_timeout_s
    assert "drain timed out with 2 request(s) in flight" in state.timeline[-1].message


def test_drain_ends_when_in_flight_reaches_zero() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        w.in_flight["c1"] = 1 if s.phase is Phase.DRAINING and now <= s.phase_started_at + 5 else 0

    state, world, _ = SCENARIOS["default"].start()
    state, ticks = drive(state, world, script=script)
    assert sum(1 for t in ticks if t.phase is Phase.DRAINING) == 2
    assert "old fleet drained" in state.timeline[-1].message


def test_default_update_may_change_variants() -> None:
    blue, green = fleet("c1"), fleet("c2", 2, variants=("A", "B"))
    world = FakeWorld()
    world.run_fleet(blue)
    state, actions = begin(deployment_id="d", endpoint_name="ep", blue=blue, green=green, config=None, now=0)
    world.apply(actions, 0)
    state, _ = drive(state, world)
    assert state.phase is Phase.SUCCEEDED and world.running("c2") == 4


def test_begin_checks_the_fleets() -> None:
    config = parse_deployment_config(blue_green("CANARY", 30, ("INSTANCE_COUNT", 2)))
    with pytest.raises(ValidationError, match="at most 50%"):
        begin(deployment_id="d", endpoint_name="ep", blue=fleet("c1"), green=fleet("c2"), config=config, now=0)
    with pytest.raises(ValueError, match="distinct fleet ids"):
        begin(deployment_id="d", endpoint_name="ep", blue=fleet("c1"), green=fleet("c1"), config=None, now=0)


# --- alarms ----------------------------------------------------------------------------------------


def stages_of(scenario: Scenario) -> list[tuple[Phase, int]]:
    """Every (phase, stage) a successful run goes through, with blue kept in-flight so drains last."""
    seen: list[tuple[Phase, int]] = []
    state, world, _ = scenario.start()
    world.in_flight["c1"] = 1
    drive(state, world, script=lambda w, s, now: seen.append((s.phase, s.stage_index)))
    return list(dict.fromkeys(p for p in seen if p[0] in ACTIVE_PHASES))


@pytest.mark.parametrize("name", sorted(n for n in SCENARIOS if n != "default"))  # default: no alarms
def test_alarm_at_every_stage_rolls_back(name: str) -> None:
    scenario = SCENARIOS[name]
    stages = stages_of(scenario)
    assert len(stages) >= 3  # provisioning, each bake, (termination wait), drain
    for target in stages:
        fired: list[float] = []

        def script(
            w: FakeWorld, s: RolloutState, now: float, target: tuple[Phase, int] = target, fired: list[float] = fired
        ) -> None:
            if not fired and (s.phase, s.stage_index) == target:
                w.alarm("latency", AlarmState.ALARM, now)
                fired.append(now)

        state, world, _ = scenario.start()
        world.in_flight["c1"] = 1
        state, ticks = drive(state, world, script=script)
        at = next(t for t in ticks if t.now == fired[0])
        assert at.phase is Phase.ROLLING_BACK, target
        if not name.startswith("rolling"):
            assert at.traffic == {"c1": 100, "c2": 0}, target  # blue/green: all traffic back in the same tick
        assert state.phase is Phase.ROLLED_BACK, target
        assert finish(ticks).outcome is Outcome.ROLLED_BACK
        assert finish(ticks).endpoint_config == "c1"
        reason = state.failure_reason or ""
        assert f"alarm 'latency' (in ALARM at 1970-01-01T00:{int(fired[0]) // 60:02d}:" in reason, reason
        assert world.running("c2") == 0 and world.running("c1") == scenario.size
        assert world.traffic == {"c1": 100, "c2": 0}


def test_alarm_between_ticks_is_not_missed() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if now == 20:  # went into ALARM at 18 and back to OK at 19: the tick at 20 sees only OK
            w.alarms["errors"] = AlarmObservation(AlarmState.OK, entered_alarm_at=18.0)

    state, world, _ = SCENARIOS["canary_count"].start()
    state, ticks = drive(state, world, script=script)
    assert state.phase is Phase.ROLLED_BACK
    assert next(t for t in ticks if t.now == 20).phase is Phase.ROLLING_BACK
    assert "'errors' (in ALARM at 1970-01-01T00:00:18Z)" in (state.failure_reason or "")


def test_alarm_from_before_the_deployment_is_ignored_once_ok() -> None:
    state, world, _ = SCENARIOS["canary_count"].start()
    world.alarms["errors"] = AlarmObservation(AlarmState.OK, entered_alarm_at=-100.0)
    world.alarms["latency"] = AlarmObservation(AlarmState.INSUFFICIENT_DATA)
    world.alarms["unrelated"] = AlarmObservation(AlarmState.ALARM, entered_alarm_at=1.0)
    state, _ = drive(state, world)
    assert state.phase is Phase.SUCCEEDED


def test_alarm_already_in_alarm_at_start_rolls_back() -> None:
    # SageMaker: an alarm on the whole endpoint also trips on errors of the old fleet.
    state, world, _ = SCENARIOS["linear_count"].start()
    world.alarms["errors"] = AlarmObservation(AlarmState.ALARM, entered_alarm_at=-100.0)
    state, ticks = drive(state, world)
    assert phases(ticks) == [Phase.ROLLING_BACK, Phase.ROLLED_BACK]
    assert "during provisioning" in (state.failure_reason or "")
    # It did not trip because of the update: the reason says it was in ALARM before the update started.
    assert "'errors' (in ALARM since 1969-12-31T23:58:20Z) was already in ALARM when the update started" in (
        state.failure_reason or "")
    assert "tripped" not in (state.failure_reason or "")


def test_rolling_rollback_restores_blue_in_batches() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.PROVISIONING and s.stage_index == 3:  # launching the 4th new, 1 old left
            w.alarm("errors", AlarmState.ALARM, now)

    state, world, _ = SCENARIOS["rolling_rollback_batches"].start()
    state, ticks = drive(state, world, script=script)
    back = [t.traffic["c1"] for t in ticks if t.phase is Phase.ROLLING_BACK]
    # One old instance more per batch (2, 3, 4 of 4), green shrinking in proportion (3, 2, 0 of 4).
    assert list(dict.fromkeys(back)) == [25, 40, 60, 100]
    assert state.phase is Phase.ROLLED_BACK
    batches = [e.message for e in state.timeline if e.message.startswith("rollback batch")]
    assert len(batches) == 3


def test_rolling_rollback_default_restores_blue_at_once() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and s.stage_index == 2:
            w.alarm("errors", AlarmState.ALARM, now)

    state, world, _ = SCENARIOS["rolling_count"].start()
    state, ticks = drive(state, world, script=script)
    back = [t.traffic["c1"] for t in ticks if t.phase is Phase.ROLLING_BACK]
    assert sorted(set(back)) == [25, 100]  # waits for 3 old instances, then all traffic at once


# --- failures --------------------------------------------------------------------------------------


def test_green_failing_to_provision_rolls_back() -> None:
    world = FakeWorld(failing={"c2": "CannotStartContainerError: exit code 1"})
    state, world, _ = SCENARIOS["canary_percent"].start(world)
    state, ticks = drive(state, world)
    assert phases(ticks) == [Phase.PROVISIONING, Phase.ROLLING_BACK, Phase.ROLLED_BACK]
    assert state.rollback_cause is not None and state.rollback_cause.kind == "FLEET_FAILED"
    assert "variant 'AllTraffic': 3 instance(s) failed (CannotStartContainerError: exit code 1)" in (
        state.failure_reason or ""
    )
    assert world.running("c2") == 0


def test_green_that_never_gets_healthy_times_out() -> None:
    config = blue_green("CANARY", 30, ("CAPACITY_PERCENT", 10))
    config["BlueGreenUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] = 60
    state, world, _ = Scenario(config).start(FakeWorld(never_ready={"c2"}))
    state, ticks = drive(state, world)
    assert next(t.now for t in ticks if t.phase is Phase.ROLLING_BACK) == 60
    assert "exceeded MaximumExecutionTimeoutInSeconds (60 s) during provisioning (canary)" in (
        state.failure_reason or ""
    )
    assert state.phase is Phase.ROLLED_BACK and world.running("c2") == 0


def test_timeout_during_a_bake() -> None:
    config = blue_green("LINEAR", 20, ("INSTANCE_COUNT", 1))
    config["BlueGreenUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] = 45
    state, world, _ = Scenario(config).start()
    state, _ = drive(state, world)
    assert "(45 s) during the bake of linear step 2 of 3" in (state.failure_reason or "")


def test_rollback_fails_when_blue_cannot_launch() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and s.stage_index == 1:
            w.failing["c1"] = "InsufficientInstanceCapacity"
            w.alarm("errors", AlarmState.ALARM, now)

    state, world, _ = SCENARIOS["rolling_count"].start()
    state, ticks = drive(state, world, script=script)
    assert state.phase is Phase.ROLLBACK_FAILED
    assert finish(ticks).outcome is Outcome.ROLLBACK_FAILED
    reason = state.failure_reason or ""
    assert reason.startswith("Rollback failed: the old fleet failed to launch: variant 'AllTraffic'")
    assert "rolling back because: Deployment rolled back because CloudWatch alarm 'errors'" in reason
    assert world.traffic["c2"] > 0  # green still serves what blue cannot


def test_rollback_fails_when_blue_is_not_ready_in_time() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and not w.alarms:
            w.instances["c1"]["AllTraffic"][0] = Instance(ready_at=NEVER)  # a blue instance is lost
            w.alarm("errors", AlarmState.ALARM, now)

    state, world, _ = SCENARIOS["canary_count"].start()
    state, ticks = drive(state, world, script=script)
    assert state.phase is Phase.ROLLBACK_FAILED
    started = next(t.now for t in ticks if t.phase is Phase.ROLLING_BACK)
    assert next(t.now for t in ticks if t.phase is Phase.ROLLBACK_FAILED) == started + 120
    assert "not ready within 120 s (ready: 'AllTraffic' 2 of 3)" in (state.failure_reason or "")


# --- commands --------------------------------------------------------------------------------------


def test_abort_rolls_back_and_is_recorded_once() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and not w.commands:
            w.commands.append(Command("cmd-1", CommandKind.ABORT, by="alice", reason="canary looks slow", at=now))
        if s.phase is Phase.ROLLING_BACK and len(w.commands) == 1:
            w.commands.append(Command("cmd-2", CommandKind.ABORT, by="bob", at=now))

    state, world, _ = SCENARIOS["canary_count"].start(FakeWorld(launch_s=10))
    world.in_flight["c2"] = 1
    state, _ = drive(state, world, script=script)
    assert state.phase is Phase.ROLLED_BACK
    assert state.handled_commands == ("cmd-1", "cmd-2")
    assert state.failure_reason == (
        "Deployment rolled back because alice aborted it during the bake of canary: canary looks slow."
    )
    ignored = [e for e in state.timeline if "ignored" in e.message]
    assert [e.message for e in ignored] == ["ABORT by bob ignored: the deployment is ROLLING_BACK"]


def test_terminal_state_is_a_fixpoint() -> None:
    state, world, _ = SCENARIOS["default"].start()
    state, _ = drive(state, world)
    obs = Observations()
    again, actions = step(state, obs, 10_000.0)
    assert again == state
    assert [type(a).__name__ for a in actions] == ["SetFleet", "SetTraffic", "SetFleet", "Finish"]
