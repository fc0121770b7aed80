"""Crash safety: the state survives JSON at every tick, actions survive being lost or repeated."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from greenfleet.rollout import AlarmState, CheckStatus, Command, CommandKind, Emit, Phase, RolloutState, step

from .scenarios import JUDGE, SCENARIOS, STEPS, Scenario, blue_green, step_list, webhook
from .world import FakeWorld, Script, Tick, Traffic, drive


def alarm_in_bake(w: FakeWorld, s: RolloutState, now: float) -> None:
    if s.phase is Phase.BAKING and s.stage_index == len(s.plan) - 1:
        w.alarm("errors", AlarmState.ALARM, now)


def blue_lost(w: FakeWorld, s: RolloutState, now: float) -> None:
    if s.phase is Phase.BAKING:
        w.failing["c1"] = "InsufficientInstanceCapacity"
        w.alarm("errors", AlarmState.ALARM, now)


SHORT_TIMEOUT = blue_green("ALL_AT_ONCE", 30)
SHORT_TIMEOUT["BlueGreenUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] = 60


def approve_after_a_minute(w: FakeWorld, s: RolloutState, now: float) -> None:
    if s.phase is Phase.AWAITING_APPROVAL and now - s.phase_started_at >= 60:
        w.commands.append(Command(f"approve-{s.stage_index}", CommandKind.APPROVE, by="ops", at=now))


def pause_then_resume(w: FakeWorld, s: RolloutState, now: float) -> None:
    if s.phase is Phase.BAKING and s.stage_index == 1 and not w.commands:
        w.commands.append(Command("pause", CommandKind.PAUSE, by="ops", at=now))
    if s.paused and now - s.timeline[-1].at >= 40:
        w.commands.append(Command("resume", CommandKind.RESUME, by="ops", at=now))


def promote_in_second_step(w: FakeWorld, s: RolloutState, now: float) -> None:
    if s.phase is Phase.BAKING and s.stage_index == 1 and not w.commands:
        w.commands.append(Command("promote", CommandKind.PROMOTE, by="ops", at=now))


CHECKS = [
    webhook("pre", "PRE_TRAFFIC"),
    webhook("each", "STEP"),
    webhook("confirm", "PRE_PROMOTION"),
    webhook("done", "POST_COMPLETION"),
    webhook("undone", "POST_ROLLBACK"),
]
CHECKED = Scenario(step_list((10, 20), (50, 20), (100, 0), Checks=CHECKS))
GATED = Scenario(step_list((10, 20), (50, 20), (100, 0), approvals=(0, 1)))
JUDGED = Scenario(step_list((10, 30), (50, 30), (100, 0), Judge=JUDGE, Checks=CHECKS))

RUNS: dict[str, tuple[Scenario, Script | None, Callable[[], FakeWorld]]] = {
    **{name: (scenario, None, FakeWorld) for name, scenario in SCENARIOS.items()},
    "canary_alarm": (SCENARIOS["canary_count"], alarm_in_bake, FakeWorld),
    "rolling_alarm": (SCENARIOS["rolling_rollback_batches"], alarm_in_bake, FakeWorld),
    "rolling_rollback_failed": (SCENARIOS["rolling_count"], blue_lost, FakeWorld),
    "green_fails": (SCENARIOS["linear_percent"], None, lambda: FakeWorld(failing={"c2": "exit 1"})),
    "green_never_ready": (Scenario(SHORT_TIMEOUT), None, lambda: FakeWorld(never_ready={"c2"})),
    # GreenfleetRollout
    "steps": (Scenario(STEPS), None, FakeWorld),
    "approvals": (GATED, approve_after_a_minute, FakeWorld),
    "pause_resume": (Scenario(STEPS), pause_then_resume, FakeWorld),
    "promote": (Scenario(STEPS), promote_in_second_step, FakeWorld),
    "checks_pass": (CHECKED, None, FakeWorld),
    "check_fails": (CHECKED, None, lambda: FakeWorld(check_verdicts={"confirm": CheckStatus.FAILED})),
    "judge_aa": (JUDGED, None, lambda: FakeWorld(traffic_model=Traffic(rps=30))),
    "judge_slow": (JUDGED, None, lambda: FakeWorld(traffic_model=Traffic(rps=30, latency_factor={"c2": 3.0}))),
    "judge_errors": (JUDGED, None, lambda: FakeWorld(traffic_model=Traffic(rps=30, error_rate={"c2": 0.4}))),
    "judge_no_data": (JUDGED, None, lambda: FakeWorld(traffic_model=Traffic(rps=0.5))),
}


def run(key: str, *, roundtrip: bool = False) -> tuple[RolloutState, list[Tick], FakeWorld]:
    scenario, script, make_world = RUNS[key]
    state, world, _ = scenario.start(make_world())
    world.in_flight["c1"] = 1
    state, ticks = drive(state, world, script=script, roundtrip=roundtrip)
    return state, ticks, world


@pytest.mark.parametrize("key", sorted(RUNS))
def test_json_round_trip_after_every_tick_changes_nothing(key: str) -> None:
    plain_state, plain, _ = run(key)
    reloaded_state, reloaded, _ = run(key, roundtrip=True)
    assert reloaded == plain
    assert reloaded_state == plain_state


@pytest.mark.parametrize("key", ["canary_count", "linear_count", "rolling_count", "canary_alarm", "rolling_alarm"])
def test_state_json_is_exact(key: str) -> None:
    states: list[RolloutState] = []
    scenario, script, make_world = RUNS[key]
    state, world, _ = scenario.start(make_world())

    def record(w: FakeWorld, s: RolloutState, now: float) -> None:
        states.append(s)
        if script is not None:
            script(w, s, now)

    drive(state, world, script=record)
    assert len({s.phase for s in states}) >= 3
    for s in states:
        assert RolloutState.from_json(s.to_json()) == s


@pytest.mark.parametrize("key", sorted(RUNS))
def test_actions_lost_at_any_tick_are_reapplied(key: str) -> None:
    """The process dies after saving the state and before applying the actions, at every tick in turn:
    the next tick re-issues the same absolute world, and the event log still gets every entry."""
    reference_state, reference, reference_world = run(key)
    # Ticks that made a transition, and the one after each (the others repeat the previous world).
    moved = {n for n, t in enumerate(reference, 1) if any(isinstance(a, Emit) for a in t.actions)}
    for crash in sorted(moved | {n + 1 for n in moved}):
        scenario, script, make_world = RUNS[key]
        state, world, _ = scenario.start(make_world())
        world.in_flight["c1"] = 1
        world.report_events = True
        state, _ = drive(state, world, script=script, crash_at=frozenset({crash}))
        assert state.phase is reference_state.phase, crash
        assert world.traffic == reference_world.traffic, crash
        assert {f: world.running(f) for f in ("c1", "c2")} == {f: reference_world.running(f) for f in ("c1", "c2")}, (
            crash
        )
        assert sorted(world.events) == list(range(len(state.timeline))), crash
        assert world.finished and world.finished[-1].outcome == reference_world.finished[-1].outcome


@pytest.mark.parametrize("key", sorted(RUNS))
def test_stepping_again_with_the_same_inputs_is_harmless(key: str) -> None:
    """Same (state, observations, now) -> same result; a tick that changed nothing is a fixpoint; a tick
    that made a transition, repeated, reaches a fixpoint within a few steps with the same world."""
    checked = 0

    def check(w: FakeWorld, s0: RolloutState, now: float) -> None:
        nonlocal checked
        obs = w.observe(now)
        s1, a1 = step(s0, obs, now)
        assert step(s0, obs, now) == (s1, a1)
        s2, a2 = step(s1, obs, now)
        if s1 == s0:
            assert (s2, a2) == (s1, a1)
            assert not any(isinstance(a, Emit) for a in a1)
        else:
            for _ in range(5):
                if s2 == s1:
                    break
                s1, (s2, a2) = s2, step(s2, obs, now)
            assert s2 == s1
            again = step(s2, obs, now)[1]
            assert [a for a in again if not isinstance(a, Emit)] == [a for a in a2 if not isinstance(a, Emit)]
        checked += 1

    scenario, script, make_world = RUNS[key]
    state, world, _ = scenario.start(make_world())

    def both(w: FakeWorld, s: RolloutState, now: float) -> None:
        if script is not None:
            script(w, s, now)
        check(w, s, now)

    drive(state, world, script=both)
    assert checked >= 4
