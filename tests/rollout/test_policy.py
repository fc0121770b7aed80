from __future__ import annotations

from typing import Any

import pytest

from greenfleet.errors import ValidationError
from greenfleet.rollout.policy import check_fleets, parse_deployment_config

from .world import fleet


def blue_green(routing: dict[str, Any], **policy: Any) -> dict[str, Any]:
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing, **policy}}


CANARY = {"Type": "CANARY", "WaitIntervalInSeconds": 300, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}
LINEAR = {"Type": "LINEAR", "WaitIntervalInSeconds": 180, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 33}}
ROLLING = {"MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 25}, "WaitIntervalInSeconds": 60}


def test_blog_canary_config_parses() -> None:
    raw = {
        **blue_green(CANARY, TerminationWaitInSeconds=120, MaximumExecutionTimeoutInSeconds=1800),
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]},
    }
    config = parse_deployment_config(raw)
    assert config.alarm_names == ("errors", "latency")
    assert config.to_json() == raw


def test_linear_and_rolling_parse() -> None:
    assert parse_deployment_config(blue_green(LINEAR)).BlueGreenUpdatePolicy is not None
    rolling = parse_deployment_config({"RollingUpdatePolicy": ROLLING})
    assert rolling.RollingUpdatePolicy is not None
    assert rolling.RollingUpdatePolicy.RollbackMaximumBatchSize is None


def test_no_update_policy_is_allowed() -> None:
    # SageMaker: "If no update policy is specified, SageMaker uses a blue/green deployment strategy
    # with all at once traffic shifting by default."
    config = parse_deployment_config({"AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "a"}]}})
    assert config.BlueGreenUpdatePolicy is None and config.RollingUpdatePolicy is None


def error(raw: Any, **kwargs: Any) -> str:
    with pytest.raises(ValidationError) as info:
        parse_deployment_config(raw, **kwargs)
    return info.value.message


def test_canary_size_required_for_canary() -> None:
    assert error(blue_green({"Type": "CANARY", "WaitIntervalInSeconds": 0})) == (
        "DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration.CanarySize: required when Type is CANARY"
    )


@pytest.mark.parametrize(
    ("routing", "expected"),
    [
        ({**LINEAR, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}}, "CanarySize: allowed only when Type"),
        ({"Type": "LINEAR", "WaitIntervalInSeconds": 0}, "LinearStepSize: required when Type is LINEAR"),
        ({**CANARY, "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1}}, "LinearStepSize: allowed only when"),
        (
            {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}},
            "CanarySize: allowed only when Type is CANARY (Type is ALL_AT_ONCE)",
        ),
        ({"Type": "BOGUS", "WaitIntervalInSeconds": 0}, "TrafficRoutingConfiguration.Type: Input should be"),
        ({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 99999}, "WaitIntervalInSeconds: Input should be less"),
        ({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": -1}, "WaitIntervalInSeconds: Input should be greater"),
        ({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": "5"}, "WaitIntervalInSeconds: Input should be a valid"),
        ({"Type": "ALL_AT_ONCE"}, "TrafficRoutingConfiguration.WaitIntervalInSeconds: required member is missing"),
        ({**CANARY, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 51}}, "between 1 and 50, got 51"),
        ({**CANARY, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 0}}, "CanarySize.Value: Input should be greater"),
        ({**CANARY, "CanarySize": {"Type": "INSTANCE_COUNT", "Value": True}}, "CanarySize.Value: Input should be a"),
        ({**CANARY, "CanarySize": {"Type": "INSTANCES", "Value": 1}}, "CanarySize.Type: Input should be"),
        ({**LINEAR, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 9}}, "between 10 and 50, got 9"),
        ({**LINEAR, "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 51}}, "between 10 and 50, got 51"),
        ({**CANARY, "Extra": 1}, "TrafficRoutingConfiguration.Extra: unknown member"),
    ],
)
def test_traffic_routing_errors(routing: dict[str, Any], expected: str) -> None:
    assert expected in error(blue_green(routing))


def test_both_update_policies_rejected() -> None:
    raw = {**blue_green(CANARY), "RollingUpdatePolicy": ROLLING}
    assert "either BlueGreenUpdatePolicy or RollingUpdatePolicy, not both" in error(raw)


def test_timeout_minimum_is_sagemakers_unless_relaxed() -> None:
    raw = blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}, MaximumExecutionTimeoutInSeconds=5)
    assert "MaximumExecutionTimeoutInSeconds: must be at least 600, got 5" in error(raw)
    config = parse_deployment_config(raw, strict_minimums=False)
    assert config.BlueGreenUpdatePolicy is not None
    assert config.BlueGreenUpdatePolicy.MaximumExecutionTimeoutInSeconds == 5
    assert "at least 600" in error({"RollingUpdatePolicy": {**ROLLING, "MaximumExecutionTimeoutInSeconds": 60}})
    assert "less than or equal to 28800" in error(
        blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}, MaximumExecutionTimeoutInSeconds=28801)
    )


def test_timeout_must_exceed_the_waits() -> None:
    raw = blue_green(CANARY, TerminationWaitInSeconds=400, MaximumExecutionTimeoutInSeconds=700)
    assert "must be larger than TerminationWaitInSeconds + WaitIntervalInSeconds (700), got 700" in error(raw)


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ({**ROLLING, "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 4}}, "between 5 and 50, got 4"),
        ({**ROLLING, "MaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 51}}, "between 5 and 50, got 51"),
        ({**ROLLING, "RollbackMaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 101}}, "between 1 and 100"),
        ({"WaitIntervalInSeconds": 0}, "RollingUpdatePolicy.MaximumBatchSize: required member is missing"),
        ({"MaximumBatchSize": ROLLING["MaximumBatchSize"]}, "RollingUpdatePolicy.WaitIntervalInSeconds: required"),
    ],
)
def test_rolling_errors(policy: dict[str, Any], expected: str) -> None:
    assert expected in error({"RollingUpdatePolicy": policy})


@pytest.mark.parametrize(
    ("alarms", "expected"),
    [
        ([], "Alarms: List should have at least 1 item"),
        ([{"AlarmName": f"a{i}"} for i in range(11)], "Alarms: List should have at most 10 items"),
        ([{"AlarmName": "  "}], "Alarms[0].AlarmName: String should match pattern"),
        ([{"Name": "x"}], "Alarms[0].AlarmName: required member is missing"),
    ],
)
def test_alarm_errors(alarms: list[dict[str, str]], expected: str) -> None:
    assert expected in error({"AutoRollbackConfiguration": {"Alarms": alarms}})


def test_every_problem_is_reported_and_bad_input_shapes() -> None:
    message = error(blue_green({"Type": "BOGUS", "WaitIntervalInSeconds": -1}))
    assert "Type" in message and "WaitIntervalInSeconds" in message
    assert error("canary") == "DeploymentConfig: must be a JSON object"
    assert "DeploymentConfig.Bogus: unknown member" in error({"Bogus": {}})


def test_check_fleets_needs_same_variant_names_with_a_config() -> None:
    config = parse_deployment_config(blue_green(CANARY))
    with pytest.raises(ValidationError, match="keep the variant names"):
        check_fleets(config, fleet("c1"), fleet("c2", variants=("Other",)))
    check_fleets(None, fleet("c1"), fleet("c2", variants=("Other",)))  # SageMaker's default update


@pytest.mark.parametrize(
    ("raw", "green", "ok"),
    [
        (blue_green(CANARY), 2, True),  # 1 of 2 = 50 %
        (blue_green(CANARY), 1, False),  # 1 of 1 = 100 %
        (blue_green({**LINEAR, "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1}}), 10, True),
        (blue_green({**LINEAR, "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 1}}), 11, False),  # 9 %
        (blue_green({**LINEAR, "LinearStepSize": {"Type": "INSTANCE_COUNT", "Value": 2}}), 3, False),  # 67 %
        ({"RollingUpdatePolicy": {**ROLLING, "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 2}}}, 4, True),
        ({"RollingUpdatePolicy": {**ROLLING, "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 3}}}, 4, False),
        ({"RollingUpdatePolicy": {**ROLLING, "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1}}}, 30, False),
    ],
)
def test_check_fleets_instance_count_bounds(raw: dict[str, Any], green: int, ok: bool) -> None:
    config = parse_deployment_config(raw)
    if ok:
        check_fleets(config, fleet("c1", green), fleet("c2", green))
    else:
        with pytest.raises(ValidationError, match=r"instance\(s\) must be"):
            check_fleets(config, fleet("c1", green), fleet("c2", green))


def test_rolling_needs_a_single_variant() -> None:
    config = parse_deployment_config({"RollingUpdatePolicy": ROLLING})
    two = ("A", "B")
    with pytest.raises(ValidationError, match="not supported on multi-variant endpoints"):
        check_fleets(config, fleet("c1", 4, variants=two), fleet("c2", 4, variants=two))
