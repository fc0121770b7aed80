"""``greenfleet scaling target|policy|activities`` and the scaling section of ``endpoint describe``, against a
live server with real workers."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.conftest import Run
from tests.client.live import unique


def test_scaling_through_the_cli(run: Run, model_urls: list[str], tmp_path: Path) -> None:
    model, config, endpoint = unique("model"), unique("config"), unique("endpoint")
    assert run("model", "create", model, "--image", "greenfleet/sklearn", "--model-data-url", model_urls[0]
               ).exit_code == 0
    assert run("config", "create", config, "--variant", f"name=AllTraffic,model={model}").exit_code == 0
    assert run("endpoint", "create", endpoint, "--config", config, "--wait", "--timeout", "60").exit_code == 0
    described = run("endpoint", "describe", endpoint)
    assert "Auto scaling: none" in described.output

    refused = run("scaling", "target", "register", endpoint, "--min", "3", "--max", "2")
    assert refused.exit_code == 1 and "cannot be greater than maximum capacity" in refused.output
    refused = run("scaling", "policy", "put", endpoint, "busy", "--target", "100")
    assert refused.exit_code == 1 and "No scalable target registered" in refused.output
    registered = run("scaling", "target", "register", endpoint, "--min", "1", "--max", "3")
    assert registered.exit_code == 0 and f"endpoint/{endpoint}/variant/AllTraffic" in registered.output
    put = run("scaling", "policy", "put", endpoint, "busy", "--target", "600", "--scale-in-cooldown", "60")
    assert put.exit_code == 0 and "-AlarmHigh-" in put.output and "-AlarmLow-" in put.output
    (tmp_path / "steps.json").write_text(json.dumps({"AdjustmentType": "ChangeInCapacity", "StepAdjustments": [
        {"MetricIntervalLowerBound": 0, "ScalingAdjustment": 1}]}))
    assert run("scaling", "policy", "put", endpoint, "steps", "--file", str(tmp_path / "steps.json")).exit_code == 0

    listed = json.loads(run("scaling", "policy", "list", endpoint, "--json").output)["ScalingPolicies"]
    assert sorted(p["PolicyName"] for p in listed) == ["busy", "steps"]
    targets = run("scaling", "target", "list", endpoint)
    assert f"endpoint/{endpoint}/variant/AllTraffic" in targets.output
    described = run("endpoint", "describe", endpoint)
    assert "Auto scaling" in described.output and "busy (SageMakerVariantInvocationsPerInstance at 600)" in \
        described.output
    activities = json.loads(run("scaling", "activities", endpoint, "--not-scaled", "--json").output)
    assert activities == {"ScalingActivities": []}
    assert run("scaling", "policy", "delete", endpoint, "steps").exit_code == 0
    assert run("scaling", "target", "deregister", endpoint).exit_code == 0
    assert json.loads(run("scaling", "policy", "list", endpoint, "--json").output)["ScalingPolicies"] == []
    assert run("endpoint", "delete", endpoint, "--wait").exit_code == 0
