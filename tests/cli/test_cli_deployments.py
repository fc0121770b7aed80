"""``endpoint update`` and ``deployment list|describe`` with real workers; option checks; the progress view."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from rich.console import Console

from greenfleet.cli.deployments import UpdateOptions, parse_size, report_outcome
from greenfleet.cli.main import cli
from greenfleet.cli.progress import (
    BAKE_POLL_S,
    POLL_S,
    AlarmStates,
    Watcher,
    bake,
    line,
    panel,
    snapshot,
    traffic_split,
)
from greenfleet.client import Client
from greenfleet.server import Server
from tests.cli.conftest import Run
from tests.live import conftest as live

# tests/live's fixtures: a server of its own per test, with short deployment minimums (timeouts < 600 s).
server, api, sklearn_model = live.server, live.api, live.sklearn_model


@pytest.fixture
def server_url(server: Server) -> str:
    """Overrides tests/cli's session server: ``run`` talks to this test's own server."""
    return server.settings.base_url


def add_config(api: live.Api, name: str, model_url: Path) -> None:
    api.call("POST", "/api/models", {"ModelName": name, "PrimaryContainer": {
        "Image": "greenfleet/sklearn", "ModelDataUrl": str(model_url)}})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": name, "ProductionVariants": [
        {"VariantName": "main", "ModelName": name, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})


def serve(api: live.Api, endpoint: str, config: str) -> None:
    api.call("POST", "/api/endpoints", {"EndpointName": endpoint, "EndpointConfigName": config})
    api.wait_status(endpoint, "InService")


# --- live -----------------------------------------------------------------------------------------


def test_linear_update_with_progress_then_history(run: Run, api: live.Api, sklearn_model: Path) -> None:
    add_config(api, "v1", sklearn_model)
    add_config(api, "v2", sklearn_model)
    serve(api, "shop", "v1")
    api.call("PUT", "/api/alarms/shop-errors", {  # the rollback alarm must exist (it does not fire here)
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Sum", "Period": 60,
        "Dimensions": [{"Name": "EndpointName", "Value": "shop"}, {"Name": "VariantName", "Value": "v2"}],
        "EvaluationPeriods": 1, "Threshold": 1000, "ComparisonOperator": "GreaterThanThreshold"})

    result = run("endpoint", "update", "shop", "--config", "v2", "--strategy", "linear", "--linear-step", "50%",
                 "--wait-interval", "1", "--timeout", "120", "--alarm", "shop-errors", "--wait")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "PROVISIONING | traffic v1 100% → v2 0%" in out
    assert "BAKING | traffic v1 50% → v2 50% | linear step 1 of 2" in out and "bake " in out
    assert "linear step 2 of 2" in out and "alarms: shop-errors" in out
    assert "SUCCEEDED after" in out and "endpoint shop serves v2." in out
    assert api.call("GET", "/api/endpoints/shop")["EndpointConfigName"] == "v2"

    listed = run("deployment", "list", "shop")
    assert listed.exit_code == 0 and "LINEAR" in listed.output and "v1 → v2" in listed.output
    assert "SUCCEEDED" in listed.output
    deployment_id = json.loads(run("deployment", "list", "shop", "--json").stdout)["Deployments"][0]["DeploymentId"]
    described = run("deployment", "describe", "shop", "--id", deployment_id)
    assert described.exit_code == 0, described.output
    for text in ("Timeline", "Deployment started: LINEAR update from v1 to v2", "linear step 1 of 2: 50% of traffic",
                 "BAKING", "Deployment succeeded", "shop-errors"):
        assert text in described.stdout, text
    as_json = json.loads(run("deployment", "describe", "shop", "--json").stdout)
    assert as_json["DeploymentId"] == deployment_id and as_json["Timeline"][-1]["Phase"] == "SUCCEEDED"

    missing = run("deployment", "list", "nowhere")
    assert missing.exit_code == 1 and "Could not find endpoint" in missing.output


def test_update_to_a_model_that_cannot_load_rolls_back(run: Run, api: live.Api, sklearn_model: Path,
                                                        tmp_path: Path) -> None:
    add_config(api, "good", sklearn_model)
    add_config(api, "broken", tmp_path / "missing.tar.gz")
    serve(api, "svc", "good")

    result = run("endpoint", "update", "svc", "--config", "broken", "--strategy", "canary", "--canary-size", "50%",
                 "--wait-interval", "1", "--wait")
    assert result.exit_code == 3, result.output
    assert "ROLLED_BACK after" in result.stderr and "endpoint svc serves good again" in result.stderr
    assert "FailureReason: Deployment rolled back because the new fleet failed" in result.stderr
    assert "missing.tar.gz" in result.stderr
    assert api.call("GET", "/api/endpoints/svc")["EndpointConfigName"] == "good"

    described = run("deployment", "describe", "svc")
    assert "ROLLING_BACK" in described.stdout and "Rolled back: endpoint on good again" in described.stdout

    # Again with the retained DeploymentConfig, as JSON: the deployment on stdout, progress on stderr.
    again = run("endpoint", "update", "svc", "--config", "broken", "--retain-deployment-config", "--wait", "--json")
    assert again.exit_code == 3, again.output
    doc = json.loads(again.stdout)
    assert (doc["Outcome"], doc["Strategy"]) == ("ROLLED_BACK", "CANARY") and "missing.tar.gz" in doc["FailureReason"]
    assert "PROVISIONING" in again.stderr
    history = json.loads(run("deployment", "list", "svc", "--json").stdout)["Deployments"]
    assert [d["Outcome"] for d in history] == ["ROLLED_BACK", "ROLLED_BACK"]


# --- options --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["--canary-size", "10%"], "--canary-size needs --strategy"),
    (["--wait-interval", "5", "--timeout", "600"], "--wait-interval, --timeout need --strategy"),
    (["--strategy", "canary", "--wait-interval", "5"], "--strategy canary needs --canary-size"),
    (["--strategy", "linear", "--linear-step", "25%"], "--strategy linear needs --wait-interval"),
    (["--strategy", "linear", "--canary-size", "10%", "--wait-interval", "1"],
     "--canary-size goes only with --strategy canary (not linear)"),
    (["--strategy", "rolling", "--batch-size", "1", "--wait-interval", "1", "--termination-wait", "5"],
     "--termination-wait goes only with blue/green strategies"),
    (["--strategy", "canary", "--rollback-batch-size", "1", "--canary-size", "1", "--wait-interval", "1"],
     "--rollback-batch-size goes only with --strategy rolling"),
    (["--strategy", "canary", "--canary-size", "10 percent", "--wait-interval", "1"],
     "Invalid value for '--canary-size'"),
    (["--strategy", "linear", "--linear-step", "150%", "--wait-interval", "1"], "1-100%"),
    (["--exclude-retained", "DesiredWeight"], "--exclude-retained needs --retain-variant-properties"),
    (["--retain-deployment-config", "--alarm", "a"], "--retain-deployment-config replaces the strategy options"),
    (["--strategy", "sideways"], "Invalid value for '--strategy'"),
])
def test_option_combinations_are_checked_before_any_request(args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["endpoint", "update", "e", "--config", "c", *args, "--url", "http://127.0.0.1:9"])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_options_build_sagemakers_deployment_config(tmp_path: Path) -> None:
    canary = UpdateOptions(strategy="canary", canary_size=parse_size("10%"), wait_interval=300, termination_wait=60,
                           max_timeout=3600, alarms=("errors", "latency", "errors")).params("e", "c2")
    assert canary == {"EndpointName": "e", "EndpointConfigName": "c2", "DeploymentConfig": {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
            "Type": "CANARY", "WaitIntervalInSeconds": 300, "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10}},
            "TerminationWaitInSeconds": 60, "MaximumExecutionTimeoutInSeconds": 3600},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]}}}
    rolling = UpdateOptions(strategy="rolling", batch_size=parse_size("2"), rollback_batch_size=parse_size("50%"),
                            wait_interval=0, retain_variant_properties=True,
                            exclude_retained=("DesiredWeight",)).params("e", "c2")
    assert rolling["DeploymentConfig"] == {"RollingUpdatePolicy": {
        "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 2}, "WaitIntervalInSeconds": 0,
        "RollbackMaximumBatchSize": {"Type": "CAPACITY_PERCENT", "Value": 50}}}
    assert rolling["RetainAllVariantProperties"] is True
    assert rolling["ExcludeRetainedVariantProperties"] == [{"VariantPropertyType": "DesiredWeight"}]
    assert UpdateOptions(strategy="all-at-once").params("e", "c2")["DeploymentConfig"] == {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}}}
    assert UpdateOptions().params("e", "c2") == {"EndpointName": "e", "EndpointConfigName": "c2"}
    assert UpdateOptions(retain_deployment_config=True).params("e", "c2")["RetainDeploymentConfig"] is True

    yaml_file = tmp_path / "dc.yaml"
    yaml_file.write_text("DeploymentConfig:\n  RollingUpdatePolicy:\n    MaximumBatchSize: {Type: INSTANCE_COUNT, "
                         "Value: 1}\n    WaitIntervalInSeconds: 10\n")
    from_file = UpdateOptions(deployment_config_file=yaml_file).params("e", "c2")["DeploymentConfig"]
    assert from_file == {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
                                                 "WaitIntervalInSeconds": 10}}
    json_file = tmp_path / "dc.json"
    json_file.write_text(json.dumps(canary["DeploymentConfig"]))
    assert UpdateOptions(deployment_config_file=json_file).params("e", "c2") == canary
    with pytest.raises(click.UsageError, match="replaces the strategy options; drop --strategy"):
        UpdateOptions(deployment_config_file=json_file, strategy="all-at-once").params("e", "c2")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(click.BadParameter, match="must hold a DeploymentConfig object"):
        UpdateOptions(deployment_config_file=tmp_path / "list.yaml").params("e", "c2")


# --- the progress view ----------------------------------------------------------------------------

BAKING: dict[str, Any] = {
    "DeploymentId": "d1", "Phase": "BAKING", "Outcome": None, "Strategy": "CANARY", "FromConfig": "v1",
    "ToConfig": "v2", "StartTime": 1000.0,
    "Timeline": [{"Seq": 0, "At": 1000.0, "Phase": "PROVISIONING", "Message": "Deployment started"},
                 {"Seq": 1, "At": 1010.0, "Phase": "BAKING", "Message": "canary: 20% of traffic on the new fleet"}],
    "View": {
        "EndpointStatus": "Updating", "EndpointConfigName": "v1",
        "ProductionVariants": [{"VariantName": "a", "CurrentWeight": 0.8, "DesiredWeight": 1.0},
                               {"VariantName": "b", "CurrentWeight": 0.8, "DesiredWeight": 1.0}],
        "PendingDeploymentSummary": {"EndpointConfigName": "v2", "ProductionVariants": [
            {"VariantName": "a", "CurrentWeight": 0.4, "DesiredWeight": 2.0,
             "VariantStatus": [{"Status": "Baking", "StatusMessage": "Baking for 60 seconds", "StartTime": 1010.0}]},
            {"VariantName": "b", "CurrentWeight": 0.0, "DesiredWeight": 0.0, "VariantStatus": []}]},
        "LastDeploymentConfig": {
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 60},
                                      "TerminationWaitInSeconds": 30, "MaximumExecutionTimeoutInSeconds": 900},
            "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "errors"}, {"AlarmName": "latency"}]}}},
}


def test_progress_snapshot_from_the_deployment() -> None:
    assert traffic_split(BAKING["View"], BAKING) == (80, 20)
    assert bake(BAKING, now=1025.0) == (45.0, 60.0)
    assert bake({**BAKING, "Phase": "TERMINATION_WAIT"}, now=1025.0) == (15.0, 30.0)
    snap = snapshot({"EndpointStatus": "Updating"}, BAKING, {"errors": "OK"}, now=1025.0)
    assert (snap.status, snap.phase, snap.traffic, snap.deadline_in_s) == ("Updating", "BAKING", (80, 20), 875.0)
    assert snap.alarms == (("errors", "OK"), ("latency", "not found"))
    assert line(snap) == ("[  25.0s] Updating BAKING | traffic v1 80% → v2 20% | canary: 20% of traffic on the new "
                          "fleet | bake 45 s left of 60 s | alarms: errors OK, latency not found")
    unknown = snapshot({}, BAKING, None, now=1025.0, alarm_note="states unavailable")
    assert line(unknown).endswith("alarms: errors, latency (states unavailable)")
    ended = {**BAKING, "Phase": "SUCCEEDED", "Outcome": "SUCCEEDED",
             "View": {"EndpointStatus": "InService", "EndpointConfigName": "v2"}}
    done = snapshot({}, ended, None, now=1100.0)
    assert (done.status, done.phase, done.traffic, done.bake, done.deadline_in_s) == (
        "InService", "SUCCEEDED", (0, 100), None, None)


def test_progress_panel_on_a_terminal() -> None:
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, width=100, color_system=None).print(
        panel(snapshot({}, BAKING, {"errors": "ALARM", "latency": "OK"}, now=1025.0)))
    shown = buffer.getvalue()
    for text in ("Deployment d1: CANARY v1 → v2", "v1 80%", "20% v2", "BAKING", "45 s left of 60 s",
                 "errors ALARM, latency OK", "875 s"):
        assert text in shown, text


def test_a_failed_rollback_exits_3_and_alarm_states_fall_back_to_names(capsys: pytest.CaptureFixture[str]) -> None:
    failed = {**BAKING, "Phase": "ROLLBACK_FAILED", "Outcome": "ROLLBACK_FAILED", "EndTime": 1200.0,
              "EndpointName": "e", "FailureReason": "Rollback failed: the old fleet failed to launch."}
    assert report_outcome(failed, as_json=False) == 3
    err = capsys.readouterr().err
    assert "Deployment d1 ROLLBACK_FAILED after 200.0 s: endpoint e is UpdateRollbackFailed." in err
    assert "FailureReason: Rollback failed: the old fleet failed to launch." in err
    assert report_outcome({**failed, "Outcome": "SUCCEEDED"}, as_json=True) == 0
    assert json.loads(capsys.readouterr().out)["Outcome"] == "SUCCEEDED"

    states = AlarmStates("http://127.0.0.1:9")  # nothing listens there
    assert states(["errors"]) is None and states.note is not None and "GET /api/alarms failed" in states.note
    assert states(["errors"]) is None and states([]) is None


def test_the_follower_polls_gently_during_a_long_bake() -> None:
    watcher = Watcher(Client("http://127.0.0.1:9"), "e", "d1", Console(file=io.StringIO(), width=100))
    assert watcher.next_poll_s() == POLL_S  # nothing seen yet
    watcher.show(snapshot({}, BAKING, None, now=1025.0))  # 45 s of bake to go
    assert watcher.next_poll_s() == BAKE_POLL_S > POLL_S
    watcher.show(snapshot({}, BAKING, None, now=1069.0))  # 1 s to go: back to the fast pace
    assert watcher.next_poll_s() == POLL_S
    shifting = {**BAKING, "View": {**BAKING["View"], "PendingDeploymentSummary": {"ProductionVariants": []}}}
    watcher.show(snapshot({}, shifting, None, now=1025.0))  # traffic moving, no bake
    assert watcher.next_poll_s() == POLL_S
    watcher.alarms.close()
