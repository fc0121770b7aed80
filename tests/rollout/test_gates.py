"""Manual gates and operator commands: APPROVE, PAUSE, RESUME, PROMOTE, ABORT, recorded with who and why.
Every run reloads the state from JSON after each tick (a restart between any two ticks)."""

from __future__ import annotations

from greenfleet.rollout import AlarmState, Command, CommandKind, Phase, RolloutState, progress
from greenfleet.rollout.state import CauseKind, Strategy

from .scenarios import SCENARIOS, STEPS, Scenario, blue_green, step_list
from .test_machine import shares
from .world import FakeWorld, drive

GATED = step_list((10, 20), (50, 20), (100, 0), approvals=(1,), timeout=120)


def command(w: FakeWorld, kind: CommandKind, now: float, by: str = "alice", reason: str = "") -> None:
    w.commands.append(Command(f"cmd-{len(w.commands) + 1}", kind, by=by, reason=reason, at=now))


def test_approval_gate_holds_until_approved_and_the_deadline_waits() -> None:
    held: list[float] = []

    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.AWAITING_APPROVAL:
            held.append(now)
            if now - s.phase_started_at >= 600 and not w.commands:  # 5 x MaximumExecutionTimeoutInSeconds
                command(w, CommandKind.APPROVE, now, by="bob", reason="dashboards look fine")

    state, world, _ = Scenario(GATED).start()
    state, ticks = drive(state, world, script=script, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED
    assert shares(ticks) == [0, 10, 50, 100]
    assert held[-1] - held[0] >= 595  # entered at 50, seen from 55, approved at 650
    assert all(t.traffic["c2"] == 50 for t in ticks if t.phase is Phase.AWAITING_APPROVAL)
    messages = [e.message for e in state.timeline]
    assert "step 2 of 3: holding 50% of traffic on the new fleet until approved" in " ".join(messages)
    assert "step 2 of 3 approved by bob: dashboards look fine" in messages
    assert state.waited_s >= 600 and state.waiting_since is None


def test_approve_is_ignored_when_nothing_waits() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and not w.commands:
            command(w, CommandKind.APPROVE, now)
            command(w, CommandKind.RESUME, now)

    state, world, _ = Scenario(STEPS).start()
    state, _ = drive(state, world, script=script, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED
    ignored = [e.message for e in state.timeline if "ignored" in e.message]
    assert ignored == [
        "APPROVE by alice ignored: no step is waiting for approval",
        "RESUME by alice ignored: the deployment is not paused",
    ]


def test_pause_stops_progress_and_the_clock_until_resume() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and s.stage_index == 1 and not w.commands:
            command(w, CommandKind.PAUSE, now, reason="investigating")
        if s.paused and now - s.timeline[-1].at >= 500:
            command(w, CommandKind.RESUME, now, by="bob")

    quick = step_list((10, 20), (50, 20), (100, 0), timeout=120)
    state, world, _ = Scenario(quick).start()
    state, ticks = drive(state, world, script=script, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED  # 500 s paused, MaximumExecutionTimeoutInSeconds 120: no timeout
    at_50 = [t.now for t in ticks if t.phase is Phase.BAKING and t.traffic["c2"] == 50]
    assert at_50[-1] - at_50[0] >= 500  # the 20 s bake did not end while paused
    messages = [e.message for e in state.timeline]
    assert "Paused by alice during the bake of step 2 of 3: investigating" in messages
    assert "Resumed by bob" in messages
    assert 500 <= state.waited_s <= 510


def test_timeout_still_applies_outside_waits() -> None:
    state, world, _ = Scenario(step_list((10, 100), (100, 0), timeout=105)).start()  # green ready at 10
    state, _ = drive(state, world, roundtrip=True)
    assert "exceeded MaximumExecutionTimeoutInSeconds (105 s) during the bake of step 1 of 2" in (
        state.failure_reason or ""
    )


def test_paused_deployment_still_rolls_back_on_an_alarm() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and not w.commands:
            command(w, CommandKind.PAUSE, now)
        elif s.paused and now - s.timeline[-1].at >= 30:
            w.alarm("errors", AlarmState.ALARM, now)

    state, world, _ = Scenario(STEPS).start()
    state, _ = drive(state, world, script=script, roundtrip=True)
    assert state.phase is Phase.ROLLED_BACK and not state.paused
    assert state.rollback_cause is not None and state.rollback_cause.kind is CauseKind.ALARM
    assert world.traffic == {"c1": 100, "c2": 0}


def test_abort_at_an_approval_gate_rolls_back_at_once() -> None:
    aborted: list[float] = []

    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.AWAITING_APPROVAL and not w.commands:
            command(w, CommandKind.ABORT, now, by="carol", reason="wrong model")
            aborted.append(now)

    state, world, _ = Scenario(GATED).start()
    state, ticks = drive(state, world, script=script, roundtrip=True)
    at = next(t for t in ticks if t.now == aborted[0])
    assert at.phase is Phase.ROLLING_BACK and at.traffic == {"c1": 100, "c2": 0}
    assert state.phase is Phase.ROLLED_BACK
    assert state.failure_reason == (
        "Deployment rolled back because carol aborted it during the approval gate of step 2 of 3: wrong model."
    )


def test_promote_during_a_bake_skips_to_all_traffic() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and s.stage_index == 1 and not w.commands:
            command(w, CommandKind.PROMOTE, now, by="dave", reason="hotfix")

    state, world, _ = Scenario(step_list((1, 20), (5, 20), (25, 20), (100, 0), termination=300)).start()
    state, ticks = drive(state, world, script=script, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED and state.promoted_by == "dave"
    assert shares(ticks) == [0, 1, 5, 100]  # 25 % skipped
    assert Phase.TERMINATION_WAIT not in {t.phase for t in ticks}  # skipped too
    assert any(e.message.startswith("Promoted by dave: hotfix") for e in state.timeline)


def test_promote_while_provisioning_waits_for_capacity_then_moves_all_traffic() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.PROVISIONING and not w.commands:
            command(w, CommandKind.PROMOTE, now)

    state, world, _ = Scenario(blue_green("LINEAR", 20, ("CAPACITY_PERCENT", 25))).start()
    state, ticks = drive(state, world, script=script, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED
    assert shares(ticks) == [0, 100]
    assert next(t.now for t in ticks if t.traffic["c2"] == 100) == 10  # green ready at 10


def test_promote_in_a_rolling_update_still_goes_batch_by_batch() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and not w.commands:
            command(w, CommandKind.PROMOTE, now)

    scenario = SCENARIOS["rolling_count"]
    state, world, _ = scenario.start()
    state, ticks = drive(state, world, script=script, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED and state.strategy is Strategy.ROLLING
    assert shares(ticks) == scenario.green_shares
    assert all(t.now - ticks[0].now < 100 for t in ticks)  # no 20 s bakes: launches only


def test_second_pause_and_second_promote_are_ignored() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and not w.commands:
            command(w, CommandKind.PAUSE, now)
            command(w, CommandKind.PAUSE, now)
            command(w, CommandKind.PROMOTE, now)
            command(w, CommandKind.PROMOTE, now, by="bob")

    state, world, _ = Scenario(STEPS).start()
    state, _ = drive(state, world, script=script, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED and not state.paused
    ignored = [e.message for e in state.timeline if "ignored" in e.message]
    assert ignored == [
        "PAUSE by alice ignored: the deployment is already paused",
        "PROMOTE by bob ignored: already promoted by alice",
    ]


def test_progress_shows_pause_and_approval_and_a_frozen_deadline() -> None:
    seen: dict[str, RolloutState] = {}

    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.AWAITING_APPROVAL:
            seen.setdefault("gate", s)
            if not w.commands:
                command(w, CommandKind.PAUSE, now)
        if s.paused:
            seen.setdefault("paused", s)
            if now - s.timeline[-1].at >= 50:
                command(w, CommandKind.RESUME, now)
                command(w, CommandKind.APPROVE, now)

    state, world, _ = Scenario(GATED).start()
    state, _ = drive(state, world, script=script, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED
    gate = seen["gate"]
    p1, p2 = progress(gate, gate.phase_started_at + 1), progress(gate, gate.phase_started_at + 400)
    assert p1.awaiting_approval and p1.deadline_in_s == p2.deadline_in_s > 0
    assert progress(seen["paused"], seen["paused"].phase_started_at).paused
