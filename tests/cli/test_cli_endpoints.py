"""Endpoints through the CLI with real workers: create --wait, invoke, set-weights, delete; the demo."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from greenfleet.cli.main import cli
from tests.cli.conftest import Run
from tests.client.live import FEATURES, unique


def test_endpoint_life_through_the_cli(run: Run, model_urls: list[str], tmp_path: Path) -> None:
    blue, green, config, endpoint = unique("model"), unique("model"), unique("config"), unique("endpoint")
    for name, url in ((blue, model_urls[0]), (green, model_urls[1])):
        assert run("model", "create", name, "--image", "greenfleet/sklearn", "--model-data-url", url).exit_code == 0
    assert run("config", "create", config, "--variant", f"name=blue,model={blue},weight=0.7",
               "--variant", f"name=green,model={green},weight=0.3").exit_code == 0
    created = run("endpoint", "create", endpoint, "--config", config, "--wait", "--timeout", "60")
    assert created.exit_code == 0, created.output
    assert "InService" in created.output and "green" in created.output

    answer = run("invoke", endpoint, "--body", FEATURES, "--target-variant", "green", "--accept", "text/csv")
    assert answer.exit_code == 0, answer.output
    assert answer.stdout.strip() in ("0", "1") and answer.stderr == "variant: green\n"
    (tmp_path / "rows.json").write_text(json.dumps([[0.5] * 20, [-0.5] * 20]))
    as_json = run("invoke", endpoint, "--file", str(tmp_path / "rows.json"), "--content-type", "application/json",
                  "--json")
    doc = json.loads(as_json.stdout)
    assert doc["InvokedProductionVariant"] in ("blue", "green") and len(json.loads(doc["Body"])["predictions"]) == 2

    moved = run("endpoint", "set-weights", endpoint, "--variant", "blue=0", "--variant", "green=1:1", "--wait",
                "--json")
    assert moved.exit_code == 0, moved.output
    weights = {v["VariantName"]: v["CurrentWeight"] for v in json.loads(moved.output)["ProductionVariants"]}
    assert weights == {"blue": 0.0, "green": 1.0}
    described = run("endpoint", "describe", endpoint)
    assert "InService" in described.output and "Desired weight" in described.output
    assert endpoint in run("endpoint", "list", "--status", "InService").output
    instances = json.loads(run("endpoint", "instances", endpoint, "--json").output)["Instances"]
    assert len(instances) == 2 and all(i["ReadyAt"] for i in instances)  # blue's and green's instance
    assert instances[0]["InstanceId"] in run("endpoint", "instances", endpoint).output
    deleted = run("endpoint", "delete", endpoint, "--wait")
    assert deleted.exit_code == 0 and f"Deleted endpoint {endpoint}" in deleted.output


def test_demo(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--port", "0", "--requests", "200", "--home", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    assert "InService after" in result.stderr and "Deleting endpoint greenfleet-demo" in result.stderr
    doc = json.loads(result.stdout)
    assert [(v["VariantName"], v["Weight"]) for v in doc["Variants"]] == [("blue", 0.7), ("green", 0.3)]
    assert sum(v["Invocations"] for v in doc["Variants"]) == 200
    assert all(v["WithinBinomialBounds"] for v in doc["Variants"])
    assert doc["Endpoint"]["EndpointStatus"] == "InService" and "predictions" in doc["FirstAnswer"]
    assert (tmp_path / "demo-models" / "greenfleet-demo-c1" / "model.tar.gz").is_file()
