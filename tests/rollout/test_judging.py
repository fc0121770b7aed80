"""The canary judge inside the rollout, with samples generated from the traffic split in effect and the
real judge; a restart (JSON round trip) between every two ticks."""

from __future__ import annotations

from typing import Any

import pytest

from greenfleet.judge import Decision, JudgeReport, Verdict
from greenfleet.rollout import Command, CommandKind, Phase, RolloutState, judge_request, rollout_details, step
from greenfleet.rollout.state import CauseKind

from .scenarios import JUDGE, Scenario, step_list
from .test_machine import shares
from .world import FakeWorld, Script, Tick, Traffic, drive

JUDGED = step_list((10, 60), (50, 60), (100, 0), Judge=JUDGE)


def judged_run(
    traffic: Traffic, raw: dict[str, Any] = JUDGED, script: Script | None = None
) -> tuple[RolloutState, list[Tick], FakeWorld]:
    state, world, _ = Scenario(raw).start(FakeWorld(traffic_model=traffic))
    state, ticks = drive(state, world, script=script, roundtrip=True)
    return state, ticks, world


def test_identical_green_is_promoted_with_a_verdict_per_step() -> None:
    state, ticks, world = judged_run(Traffic(rps=50))
    assert state.phase is Phase.SUCCEEDED
    assert shares(ticks) == [0, 10, 50, 100]
    passed = [e.message for e in state.timeline if e.message.startswith("Judge passed")]
    assert passed == ["Judge passed step 1 of 3: score 100 (PASS)", "Judge passed step 2 of 3: score 100 (PASS)"]
    verdict = state.judge_verdict
    assert verdict is not None and verdict.judgement and verdict.decision is Decision.CONTINUE
    latency = verdict.metric("latency")
    assert latency is not None and latency.verdict is Verdict.PASS and latency.counted
    assert latency.control_n > latency.experiment_n > 30
    assert state.judge_window_started_at == 10  # green's first traffic; one window for the deployment
    assert world.reports[-1].window_start == 10
    details = rollout_details(state)["Judge"]
    assert details["LastJudgement"]["metrics"][0]["name"] == "latency"


def test_green_three_times_slower_is_rolled_back_at_the_first_judgement() -> None:
    state, ticks, _ = judged_run(Traffic(rps=50, latency_factor={"c2": 3.0}))
    assert state.phase is Phase.ROLLED_BACK
    assert max(t.traffic["c2"] for t in ticks) == 10
    assert next(t.now for t in ticks if t.phase is Phase.ROLLING_BACK) == 70  # bake 10..70
    assert state.rollback_cause is not None and state.rollback_cause.kind is CauseKind.JUDGE
    assert (state.failure_reason or "").startswith(
        "Deployment rolled back because the canary judge rejected the new fleet during the bake of step 1 of 3: "
        "score 0 (FAIL): latency HIGH (critical)"
    )


def test_failing_green_is_rolled_back_early_by_the_sequential_error_test() -> None:
    state, ticks, _world = judged_run(Traffic(rps=50, error_rate={"c1": 0.01, "c2": 0.3}))
    assert state.phase is Phase.ROLLED_BACK
    stopped = next(t.now for t in ticks if t.phase is Phase.ROLLING_BACK)
    assert stopped < 70  # before the bake's judgement point
    report = state.judge_report
    assert report is not None and not report.judgement and report.decision is Decision.ROLLBACK
    errors = report.metric("errors")
    assert errors is not None and errors.alpha is not None
    assert errors.verdict is Verdict.HIGH and errors.p_high_min <= errors.alpha
    assert "errors HIGH (critical)" in (state.failure_reason or "")


def test_no_data_holds_then_rolls_back_past_the_limit() -> None:
    state, _ticks, _ = judged_run(Traffic(rps=0.5))  # a few requests a minute: never 30 a side on green
    assert state.phase is Phase.ROLLED_BACK
    holds = [e for e in state.timeline if e.message.startswith("Judge holds")]
    assert [h.message for h in holds] == [
        "Judge holds step 1 of 3: no data for any metric; judging again in 30 s",
        "Judge holds step 1 of 3: no data for any metric; judging again in 30 s",
    ]
    assert [h.at for h in holds] == [70, 100]
    assert "latency NODATA_FAIL (critical)" in (state.failure_reason or "")  # third point, NoDataLimit 2


def test_a_hold_ends_when_data_arrives() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if any(e.message.startswith("Judge holds") for e in s.timeline) and w.traffic_model is not None:
            w.traffic_model.rps = 50

    state, _ticks, _ = judged_run(Traffic(rps=0.5), script=script)
    assert state.phase is Phase.SUCCEEDED
    judged = [e.message for e in state.timeline if e.message.startswith("Judge")]
    assert judged[0].startswith("Judge holds step 1 of 3: no data")
    assert judged[1] == "Judge passed step 1 of 3: score 100 (PASS)"


def test_judge_keeps_watching_at_an_approval_gate() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.AWAITING_APPROVAL and w.traffic_model is not None:
            w.traffic_model.error_rate["c2"] = 0.5  # green breaks while a person looks at the dashboards

    raw = step_list((10, 60), (50, 60), (100, 0), approvals=(0,), Judge=JUDGE)
    state, _ticks, _ = judged_run(Traffic(rps=50), raw, script)
    assert state.phase is Phase.ROLLED_BACK
    assert "during the approval gate of step 1 of 3" in (state.failure_reason or "")


def test_promote_stops_the_judge() -> None:
    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and not w.commands:
            w.commands.append(Command("c-1", CommandKind.PROMOTE, by="eve", at=now))

    state, ticks, world = judged_run(Traffic(rps=50, latency_factor={"c2": 3.0}), script=script)
    assert state.phase is Phase.SUCCEEDED  # the operator's call
    assert shares(ticks) == [0, 10, 100]
    assert len(world.reports) == 1  # the tick before PROMOTE


def test_reports_for_another_window_or_seen_before_are_ignored() -> None:
    seen: list[RolloutState] = []

    def script(w: FakeWorld, s: RolloutState, now: float) -> None:
        if s.phase is Phase.BAKING and s.judge_report is not None and not seen:
            seen.append(s)

    _state, _, world = judged_run(Traffic(rps=50), script=script)
    s = seen[0]
    report = s.judge_report
    assert report is not None
    obs = world.observe(report.at, s)
    fake = JudgeReport(
        at=report.at + 1,
        window_start=report.window_start - 5,
        judgement=True,
        metrics=(),
        score=0.0,
        classification=None,
        decision=Decision.ROLLBACK,
        reason="wrong window",
    )
    again = report.model_copy(update={"decision": Decision.ROLLBACK})
    for judge in (fake, again):
        nxt, _ = step(s, type(obs)(fleets=obs.fleets, judge=judge), report.at + 1)
        assert nxt.phase is Phase.BAKING and nxt.judge_report == report


def test_judge_request_only_while_both_fleets_take_traffic() -> None:
    states: list[RolloutState] = []
    _state, _ticks, _ = judged_run(Traffic(rps=50), script=lambda w, s, now: states.append(s))
    requested = {(s.phase, s.green_share) for s in states if judge_request(s, 1e9) is not None}
    assert requested == {(Phase.BAKING, 10), (Phase.BAKING, 50)}
    bake_end = next(s for s in states if s.phase is Phase.BAKING and s.green_share == 10)
    request = judge_request(bake_end, (bake_end.bake_started_at or 0) + 60)
    assert request is not None and request.judgement
    early = judge_request(bake_end, (bake_end.bake_started_at or 0) + 59)
    assert early is not None and not early.judgement


@pytest.mark.parametrize("factor", [1.0, 3.0])
def test_twenty_seeds(factor: float) -> None:
    """The acceptance scenario's shape, pure: A/A promoted in 20 of 20, 3x slower rolled back in 20 of 20."""
    outcomes = []
    for seed in range(20):
        state, _, _ = judged_run(Traffic(rps=30, seed=seed, latency_factor={"c2": factor}))
        outcomes.append(state.phase)
    expected = Phase.SUCCEEDED if factor == 1.0 else Phase.ROLLED_BACK
    assert outcomes == [expected] * 20
