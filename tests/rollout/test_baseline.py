"""The judge's fresh baseline, tick by tick: started with green at green's counts, given green's share (taken
from blue) while judged, compared with green instead of blue, stopped with the deployment whatever its
outcome; and the configs that cannot work are refused. A restart (JSON round trip) between every two ticks."""

from __future__ import annotations

from typing import Any

import pytest

from greenfleet.errors import ValidationError
from greenfleet.rollout import (
    Phase,
    RolloutState,
    SetFleet,
    begin,
    describe,
    judge_request,
    parse_deployment_config,
    rollout_details,
    step,
)
from greenfleet.rollout.baseline import baseline_spec, baseline_wanted
from greenfleet.rollout.state import CauseKind

from .scenarios import ERRORS, JUDGE, LATENCY, LIMITS, blue_green, rolling, step_list
from .world import FakeWorld, Tick, Traffic, drive, fleet

FRESH_SLOWER = {"c2": 1.3, "c3": 1.3}
"""What the bench measured on real models: a fleet started seconds ago at a small share answers slower than
the warm, busy blue, whatever its model: green (c2) and a baseline (c3) alike."""


def start(raw: dict[str, Any], traffic: Traffic, *, size: int = 2,
          failing: dict[str, str] | None = None) -> tuple[RolloutState, FakeWorld]:
    blue, green = fleet("c1", size), fleet("c2", size)
    config = parse_deployment_config(raw, strict_minimums=False)
    baseline = baseline_spec("c3", blue, green) if baseline_wanted(config, blue, green) else None
    world = FakeWorld(traffic_model=traffic, failing=failing or {})
    world.run_fleet(blue)
    state, actions = begin(deployment_id="d-1", endpoint_name="ep", blue=blue, green=green, config=config, now=0.0,
                           limits=LIMITS, baseline=baseline)
    world.apply(actions, 0.0)
    return state, world


ISSUE_JUDGE: dict[str, Any] = {**JUDGE, "Metrics": [{**LATENCY, "AllowedIncrease": 1.2, "CriticalIncrease": 1.0},
                                                    ERRORS]}
"""Issue 21's: a significant latency increase of green's mean by 20 % or more is critical."""


def judged(share: int = 25, **judge: Any) -> dict[str, Any]:
    return step_list((share, 60), (100, 0), Judge={**ISSUE_JUDGE, **judge})


def test_an_identical_green_judged_against_blue_is_rolled_back_but_against_a_fresh_baseline_promoted() -> None:
    state, world = start(judged(Baseline="PRODUCTION"), Traffic(rps=60, latency_factor=FRESH_SLOWER))
    assert state.baseline is None
    state, _ = drive(state, world, roundtrip=True)
    assert state.phase is Phase.ROLLED_BACK and state.rollback_cause is not None
    assert state.rollback_cause.kind is CauseKind.JUDGE

    state, world = start(judged(), Traffic(rps=60, latency_factor=FRESH_SLOWER))  # the default: FRESH
    assert state.baseline is not None and state.baseline.series_name == "c1@baseline"
    state, _ = drive(state, world, roundtrip=True)
    assert state.phase is Phase.SUCCEEDED, state.failure_reason
    verdict = state.judge_verdict
    assert verdict is not None and verdict.compared.endswith("vs baseline: a fresh copy of c1 (fleet c3) started "
                                                             "with green, at green's share")
    latency = verdict.metric("latency")
    assert latency is not None and latency.verdict == "PASS" and latency.control_n > 100
    details = rollout_details(state)
    assert details["Judge"]["Compared"] == verdict.compared
    assert details["Judge"]["Baseline"] == {"FleetId": "c3", "EndpointConfigName": "c1",
                                            "MetricsConfigName": "c1@baseline",
                                            "InstanceCounts": {"AllTraffic": 0}, "TrafficPercent": 0}
    assert details["Judge"]["WarmUp"] == {"Seconds": 0.0, "Invocations": 0}
    assert [s["BaselineTrafficPercent"] for s in details["Steps"]] == [25, 0]


def test_the_baseline_starts_with_green_takes_its_share_from_blue_and_stops_after_the_judged_steps() -> None:
    state, world = start(judged(30), Traffic(rps=60))
    assert state.traffic == {"c1": 100, "c2": 0, "c3": 0}
    state, ticks = drive(state, world, roundtrip=True)
    launched = next(t for t in ticks if fleets_of(t).get("c3"))
    assert fleets_of(launched)["c3"] == {"AllTraffic": 2} and fleets_of(launched)["c2"] == {"AllTraffic": 2}
    assert launched.now == 5  # the first tick: green and its baseline launch together
    splits = [t.traffic for t in ticks]
    assert {"c1": 40, "c2": 30, "c3": 30} in splits  # both before any traffic moves, then the same share
    assert all(s.get("c3", 0) in (0, s.get("c2")) for s in splits)
    promoted = next(t for t in ticks if t.traffic.get("c2") == 100)
    assert promoted.traffic == {"c1": 0, "c2": 100, "c3": 0}
    assert fleets_of(promoted)["c3"] == {"AllTraffic": 0}  # stopped with the judged steps
    assert state.phase is Phase.SUCCEEDED and state.fleets["c3"] == {"AllTraffic": 0}
    assert world.running("c3") == 0


def test_describe_shows_the_baseline_share_in_blue_s_current_weight_so_the_split_sums_to_the_whole() -> None:
    state, world = start(judged(30), Traffic(rps=60))
    seen = []
    for now in [5.0 * i for i in range(1, 40)]:
        state, actions = step(state, world.observe(now, state), now)
        world.apply(actions, now)
        view = describe(state)
        if state.is_terminal:
            break
        blue = sum(v["CurrentWeight"] for v in view["ProductionVariants"])
        green = sum(v["CurrentWeight"] for v in view["PendingDeploymentSummary"]["ProductionVariants"])
        assert blue + green == pytest.approx(1.0)  # every tick: blue's variants carry blue's and the baseline's
        assert green == pytest.approx(state.traffic["c2"] / 100)
        assert blue == pytest.approx((state.traffic["c1"] + state.traffic["c3"]) / 100)
        assert [v["VariantName"] for v in view["ProductionVariants"]] == ["AllTraffic"]  # no second entry
        seen.append((state.traffic["c1"], state.traffic["c3"], round(blue, 2)))
    assert (40, 30, 0.7) in seen  # the judged step: blue 40 % + baseline 30 % shown as blue's 0.7


def test_a_rolled_back_deployment_stops_its_baseline() -> None:
    state, world = start(judged(), Traffic(rps=60, latency_factor={"c2": 3.0}))
    state, ticks = drive(state, world, roundtrip=True)
    assert state.phase is Phase.ROLLED_BACK and "latency HIGH" in (state.failure_reason or "")
    back = next(t for t in ticks if t.phase is Phase.ROLLING_BACK)
    assert back.traffic == {"c1": 100, "c2": 0, "c3": 0}
    assert state.traffic["c3"] == 0 and world.running("c3") == 0 and world.running("c2") == 0


def test_a_baseline_that_fails_to_start_rolls_back_before_green_takes_traffic() -> None:
    state, world = start(judged(), Traffic(rps=60), failing={"c3": "exited with 1"})
    state, ticks = drive(state, world, roundtrip=True)
    assert state.phase is Phase.ROLLED_BACK
    assert "the judge's baseline fleet (a copy of the old one) failed" in (state.failure_reason or "")
    assert max(t.traffic.get("c2", 0) for t in ticks) == 0


def test_the_judge_reads_the_baseline_as_its_control() -> None:
    state, world = start(judged(), Traffic(rps=60))
    for now in (5.0, 10.0, 15.0, 20.0):
        state, actions = step(state, world.observe(now, state), now)
        world.apply(actions, now)
    request = judge_request(state, 20.0)
    assert request is not None and request.control.fleet_id == "c3" and request.experiment.fleet_id == "c2"
    assert request.control.metrics_config == "c1@baseline"


@pytest.mark.parametrize(("raw", "message"), [
    (judged(60, Baseline="FRESH"), "a judged step can give green at most 50 %, got 60 %"),
    (step_list((25, 60), (75, 60), (100, 0), Judge={**JUDGE, "Baseline": "FRESH"}), "got 75 %"),
    ({**rolling(("INSTANCE_COUNT", 1), 20), "GreenfleetRollout": {"Judge": {**JUDGE, "Baseline": "FRESH"}}},
     "a rolling deployment replaces blue batch by batch"),
])
def test_fresh_where_it_cannot_work_is_refused(raw: dict[str, Any], message: str) -> None:
    config = parse_deployment_config(raw, strict_minimums=False)
    with pytest.raises(ValidationError, match=r"Judge\.Baseline: FRESH cannot work here") as error:
        baseline_wanted(config, fleet("c1", 4), fleet("c2", 4))
    assert message in str(error.value) and "Use Baseline PRODUCTION" in str(error.value)


@pytest.mark.parametrize("raw", [
    judged(60),  # more than 50 %: no room for a baseline at green's share
    judged(50),  # an even split already: a baseline would only add a second cold process
    {**rolling(("INSTANCE_COUNT", 1), 20), "GreenfleetRollout": {"Judge": JUDGE}},
    {**blue_green("LINEAR", 20, ("CAPACITY_PERCENT", 34)), "GreenfleetRollout": {"Judge": JUDGE}},  # 68 %
])
def test_the_default_judges_against_blue_where_a_baseline_cannot_work_or_help(raw: dict[str, Any]) -> None:
    config = parse_deployment_config(raw, strict_minimums=False)
    assert not baseline_wanted(config, fleet("c1", 4), fleet("c2", 4))


def test_the_default_runs_a_baseline_when_a_judged_step_is_below_half() -> None:
    for raw in (judged(25), step_list((10, 60), (50, 60), (100, 0), Judge=ISSUE_JUDGE)):
        assert baseline_wanted(parse_deployment_config(raw, strict_minimums=False), fleet("c1", 4), fleet("c2", 4))


def test_at_fifty_percent_the_baseline_and_green_take_all_traffic() -> None:
    state, world = start(judged(50, Baseline="FRESH"), Traffic(rps=60))
    state, ticks = drive(state, world, roundtrip=True)
    assert {"c1": 0, "c2": 50, "c3": 50} in [t.traffic for t in ticks] and state.phase is Phase.SUCCEEDED


def test_a_baseline_given_to_a_deployment_without_one_is_a_programming_error() -> None:
    config = parse_deployment_config(judged(Baseline="PRODUCTION"), strict_minimums=False)
    blue, green = fleet("c1", 2), fleet("c2", 2)
    with pytest.raises(ValueError, match="does not judge against one"):
        begin(deployment_id="d", endpoint_name="ep", blue=blue, green=green, config=config, now=0.0,
              baseline=baseline_spec("c3", blue, green))


def fleets_of(tick: Tick) -> dict[str, dict[str, int]]:
    return {a.fleet_id: dict(a.instance_counts) for a in tick.actions if isinstance(a, SetFleet)}



@pytest.mark.parametrize(("judge", "member"), [
    ({"Baseline": "BLUE"}, "Baseline"),
    ({"WarmUpInSeconds": -1}, "WarmUpInSeconds"),
    ({"WarmUpInvocations": -5}, "WarmUpInvocations"),
])
def test_bad_baseline_and_warm_up_members_are_refused(judge: dict[str, Any], member: str) -> None:
    with pytest.raises(ValidationError, match=member):
        parse_deployment_config(judged(**judge), strict_minimums=False)
