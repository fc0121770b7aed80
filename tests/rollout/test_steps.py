"""GreenfleetRollout.Steps and the extension's validation: the SageMaker members are untouched."""

from __future__ import annotations

from typing import Any

import pytest

from greenfleet.errors import ValidationError
from greenfleet.rollout import Phase, parse_deployment_config
from greenfleet.rollout.plans import compile_plan
from greenfleet.rollout.state import Strategy

from .scenarios import JUDGE, STEPS, Scenario, blue_green, extended, rolling, step_list, webhook
from .test_machine import shares
from .world import drive, fleet


def error(raw: Any) -> str:
    with pytest.raises(ValidationError) as info:
        parse_deployment_config(raw, strict_minimums=False)
    return info.value.message


def test_extension_round_trips_as_given() -> None:
    raw = step_list((10, 60), (100, 0), approvals=(0,), Checks=[webhook("smoke", "STEP")], Judge=JUDGE)
    config = parse_deployment_config(raw, strict_minimums=False)
    assert config.to_json() == raw  # defaults are not echoed back
    assert config.GreenfleetRollout is not None and config.GreenfleetRollout.Steps is not None
    assert config.GreenfleetRollout.Steps[0].RequireApproval


def test_sagemaker_members_validate_as_before() -> None:
    raw = blue_green("CANARY", 30, ("CAPACITY_PERCENT", 60))
    assert error(raw) == error(extended(raw, Checks=[]))
    assert "DeploymentConfig.Greenfleet: unknown member" in error({"Greenfleet": {}})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (step_list((5, 0), (5, 0), (100, 0)), "TrafficPercent must strictly increase, got [5, 5, 100]"),
        (step_list((5, 0), (50, 0)), "the last step must move all traffic (TrafficPercent 100), got 50"),
        (step_list((0, 0), (100, 0)), "Steps[0].TrafficPercent: Input should be greater than or equal to 1"),
        (
            extended(rolling(("INSTANCE_COUNT", 1), 0), Steps=[{"TrafficPercent": 100}]),
            "not with a RollingUpdatePolicy",
        ),
        (
            extended(blue_green("CANARY", 30, ("CAPACITY_PERCENT", 10)), Steps=[{"TrafficPercent": 100}]),
            "its Type must be",
        ),
        (step_list((10, 3000), (100, 700)), "must be larger than the steps' bakes and TerminationWaitInSeconds (3700)"),
        (extended(None, Judge=JUDGE), "GreenfleetRollout.Judge: needs a step where both fleets take traffic"),
        (step_list((100, 0), Judge=JUDGE), "needs a step where both fleets take traffic"),
        (extended(None, Checks=[webhook("a", "STEP"), webhook("a", "PRE_TRAFFIC")]), "check names must be unique"),
        (extended(None, Checks=[{"Name": "a", "Point": "STEP"}]), "Checks[0]: give exactly one of Url and LoadTest"),
        (extended(None, Checks=[webhook("a", "LATER")]), "Checks[0].Point: Input should be"),
        (extended(None, Checks=[webhook("a", "STEP", Url="ftp://x")]), "Checks[0].Url: String should match pattern"),
        (
            extended(None, Checks=[{"Name": "a", "Point": "POST_ROLLBACK", "LoadTest": {"PayloadsFile": "p"}}]),
            "not at POST_ROLLBACK",
        ),
        (
            extended(blue_green("CANARY", 30, ("CAPACITY_PERCENT", 10)), Judge={**JUDGE, "MarginalScore": 90}),
            "Judge.MarginalScore: must not exceed PassScore (75), got 90",
        ),
        (
            extended(blue_green("CANARY", 30, ("CAPACITY_PERCENT", 10)), Judge={"Metrics": []}),
            "Judge.Metrics: List should have at least 1 item",
        ),
    ],
)
def test_extension_errors(raw: dict[str, Any], expected: str) -> None:
    assert expected in error(raw)


def test_steps_compile_to_stages_with_gates() -> None:
    raw = step_list(
        (1, 60),
        (25, 120),
        (100, 0),
        approvals=(1,),
        Checks=[webhook("it", "PRE_TRAFFIC"), webhook("smoke", "STEP"), webhook("confirm", "PRE_PROMOTION")],
        Judge=JUDGE,
    )
    config = parse_deployment_config(raw, strict_minimums=False)
    strategy, plan, termination = compile_plan(config, fleet("c1"), fleet("c2"))
    assert strategy is Strategy.STEPS and termination == 0
    assert [(s.label, s.traffic["c2"], s.bake_s) for s in plan] == [
        ("step 1 of 3", 1, 60),
        ("step 2 of 3", 25, 120),
        ("step 3 of 3", 100, 0),
    ]
    assert [s.pre_checks for s in plan] == [("it",), (), ("confirm",)]
    assert all(s.post_checks == ("smoke",) for s in plan)
    assert [s.approval for s in plan] == [False, True, False]
    assert [s.judged for s in plan] == [True, True, False]
    assert plan[0].await_ready == {"c2": {"AllTraffic": 3}} and plan[1].await_ready == {}


def test_canary_gets_gates_too() -> None:
    raw = extended(blue_green("CANARY", 30, ("CAPACITY_PERCENT", 10)), Checks=[webhook("c", "PRE_PROMOTION")])
    _, plan, _ = compile_plan(parse_deployment_config(raw, strict_minimums=False), fleet("c1"), fleet("c2"))
    assert [s.pre_checks for s in plan] == [(), ("c",)]


@pytest.mark.parametrize("roundtrip", [False, True])
def test_step_list_tick_by_tick(roundtrip: bool) -> None:
    state, world, _ = Scenario(STEPS).start()
    state, ticks = drive(state, world, roundtrip=roundtrip)
    assert state.phase is Phase.SUCCEEDED and state.strategy is Strategy.STEPS
    assert shares(ticks) == [0, 1, 5, 25, 50, 100]
    baked = [t.now for t in ticks if t.phase is Phase.BAKING]
    assert baked[0] == 10  # green ready at 10
    entered = [e.at for e in state.timeline if "% of traffic on the new fleet" in e.message]
    assert entered == [10, 30, 50, 70, 90]  # 20 s bakes, 5 s ticks
    assert [e.message for e in state.timeline][1] == "step 1 of 5: 1% of traffic on the new fleet; baking 20 s"
