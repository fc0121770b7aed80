"""``greenfleet model|config|endpoint`` against a live server: tables, --json, errors."""

from __future__ import annotations

import json

from click.testing import CliRunner

from greenfleet.cli.main import cli
from greenfleet.instances.local import free_port
from tests.cli.conftest import Run
from tests.client.live import unique


def test_the_commands_are_registered() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    for command in ("apply", "config", "demo", "endpoint", "invoke", "model", "server"):
        assert f"  {command} " in result.output


def test_model_create_describe_list_delete(run: Run) -> None:
    name = unique("model")
    created = run("model", "create", name, "--image", "greenfleet/sklearn", "--model-data-url", "/m/model.tar.gz",
                  "--env", "A=1", "--env", "B=x=y", "--tag", "team=risk")
    assert created.exit_code == 0 and f"Created model {name}: arn:aws:sagemaker:" in created.output
    described = run("model", "describe", name)
    assert described.exit_code == 0
    assert "greenfleet/sklearn" in described.output and "/m/model.tar.gz" in described.output
    doc = json.loads(run("model", "describe", name, "--json").output)
    assert doc["PrimaryContainer"]["Environment"] == {"A": "1", "B": "x=y"}
    assert name in run("model", "list").output
    listed = json.loads(run("model", "list", "--name-contains", name, "--json").output)
    assert [m["ModelName"] for m in listed["Models"]] == [name]
    assert json.loads(run("model", "delete", name, "--json").output) == {}
    assert json.loads(run("model", "list", "--name-contains", name, "--json").output) == {"Models": []}


def test_errors_exit_non_zero_with_the_message(run: Run) -> None:
    missing = run("model", "describe", "ghost-model")
    assert missing.exit_code == 1
    assert 'Error: ValidationException: Could not find model "arn:aws:sagemaker:us-east-1:000000000000:' \
           'model/ghost-model".' in missing.output
    name = unique("model")
    run("model", "create", name, "--image", "greenfleet/sklearn")
    duplicate = run("model", "create", name, "--image", "greenfleet/sklearn")
    assert duplicate.exit_code == 1 and "already existing model" in duplicate.output
    bad_env = run("model", "create", unique("model"), "--image", "x", "--env", "NOEQUALS")
    assert bad_env.exit_code == 2 and "expected KEY=VALUE" in bad_env.output
    assert run("endpoint", "describe", "ghost").exit_code == 1
    assert run("config", "delete", "ghost").exit_code == 1


def test_config_create_describe_list_delete(run: Run) -> None:
    model, name = unique("model"), unique("config")
    run("model", "create", model, "--image", "greenfleet/sklearn")
    created = run("config", "create", name,
                  "--variant", f"name=blue,model={model},count=2,weight=0.7,instance-type=ml.c5.xlarge",
                  "--variant", f"name=green,model={model},weight=0.3,routing=RANDOM", "--json")
    assert created.exit_code == 0, created.output
    assert json.loads(created.output)["EndpointConfigArn"].endswith(f"endpoint-config/{name}")
    doc = json.loads(run("config", "describe", name, "--json").output)
    assert doc["ProductionVariants"] == [
        {"VariantName": "blue", "ModelName": model, "InstanceType": "ml.c5.xlarge", "InitialInstanceCount": 2,
         "InitialVariantWeight": 0.7, "RoutingConfig": {"RoutingStrategy": "LEAST_OUTSTANDING_REQUESTS"}},
        {"VariantName": "green", "ModelName": model, "InstanceType": "ml.m5.large", "InitialInstanceCount": 1,
         "InitialVariantWeight": 0.3, "RoutingConfig": {"RoutingStrategy": "RANDOM"}}]
    table = run("config", "describe", name).output
    assert "blue" in table and "0.7" in table and "RANDOM" in table
    assert name in run("config", "list").output
    assert run("config", "delete", name).exit_code == 0
    assert json.loads(run("config", "list", "--name-contains", name, "--json").output) == {"EndpointConfigs": []}


def test_config_errors(run: Run) -> None:
    bad_spec = run("config", "create", unique("config"), "--variant", "name=blue,colour=red")
    assert bad_spec.exit_code == 2 and "'colour=red'" in bad_spec.output
    no_model = run("config", "create", unique("config"), "--variant", "name=blue")
    assert no_model.exit_code == 2 and "model= is required" in no_model.output
    ghost = run("config", "create", unique("config"), "--variant", "name=blue,model=ghost-model")
    assert ghost.exit_code == 1 and "model/ghost-model" in ghost.output
    model = unique("model")
    run("model", "create", model, "--image", "greenfleet/sklearn")
    zero = run("config", "create", unique("config"), "--variant", f"name=a,model={model},weight=0")
    assert zero.exit_code == 1 and "at least one InitialVariantWeight" in zero.output


def test_endpoint_commands_report_server_errors(run: Run) -> None:
    created = run("endpoint", "create", unique("endpoint"), "--config", "ghost-config")
    assert created.exit_code == 1 and "endpoint-config/ghost-config" in created.output
    weights = run("endpoint", "set-weights", "ghost", "--variant", "blue=0.5:2")
    assert weights.exit_code == 1 and "endpoint/ghost" in weights.output
    bad = run("endpoint", "set-weights", "ghost", "--variant", "blue")
    assert bad.exit_code == 2 and "VARIANT=WEIGHT[:COUNT]" in bad.output
    assert json.loads(run("endpoint", "list", "--name-contains", "ghost", "--json").output) == {"Endpoints": []}


def test_url_option_and_unreachable_server(server_url: str) -> None:
    runner = CliRunner()
    ok = runner.invoke(cli, ["model", "list", "--json", "--url", server_url], env={"GREENFLEET_URL": None})
    assert ok.exit_code == 0 and "Models" in json.loads(ok.output)
    down = runner.invoke(cli, ["endpoint", "list", "--url", f"http://127.0.0.1:{free_port()}"])
    assert down.exit_code == 1 and "cannot reach greenfleet at http://127.0.0.1:" in down.output


def test_invoke_needs_exactly_one_body(run: Run) -> None:
    neither = run("invoke", "some-endpoint")
    assert neither.exit_code == 2 and "exactly one of --body or --file" in neither.output
    unknown = run("invoke", "ghost", "--body", "1,2")
    assert unknown.exit_code == 1 and "ValidationError: Endpoint ghost" in unknown.output
