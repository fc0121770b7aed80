"""``greenfleet apply -f``: idempotent, and a bad manifest is reported with its YAML path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from greenfleet.client import Client
from tests.cli.conftest import Run
from tests.client.live import unique


def write(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def declaration(suffix: str) -> dict[str, object]:
    return {
        "models": [{"name": f"m-{suffix}", "image": "greenfleet/sklearn", "modelDataUrl": "missing.tar.gz"}],
        "endpointConfigs": [{"name": f"c-{suffix}", "variants": [{"name": "blue", "model": f"m-{suffix}"}]}],
    }


def test_apply_twice_is_idempotent(run: Run, tmp_path: Path) -> None:
    suffix = unique("apply")
    path = write(tmp_path / "endpoint.yaml", declaration(suffix))
    first = run("apply", "-f", str(path), "--json")
    assert first.exit_code == 0, first.output
    assert [(c["kind"], c["action"]) for c in json.loads(first.stdout)["Changes"]] == [
        ("model", "created"), ("endpoint-config", "created")]
    second = run("apply", "-f", str(path))
    assert second.exit_code == 0
    assert second.stdout.count("unchanged") == 4 and "created" not in second.stdout  # the plan, then the result
    described = json.loads(run("model", "describe", f"m-{suffix}", "--json").output)
    assert described["PrimaryContainer"]["ModelDataUrl"] == str(tmp_path / "missing.tar.gz")


def test_a_bad_manifest_reports_the_path(run: Run, tmp_path: Path) -> None:
    document = declaration(unique("bad"))
    document["endpointConfigs"][0]["variants"][0]["weight"] = "most"  # type: ignore[index]
    document["endpoints"] = [{"name": "e", "cfg": "x"}]
    result = run("apply", "-f", str(write(tmp_path / "bad.yaml", document)))
    assert result.exit_code == 1
    assert "endpointConfigs[0].variants[0].weight: expected a number, got str" in result.output
    assert "endpoints[0].cfg: unknown key" in result.output and "endpoints[0].config: required" in result.output
    assert str(tmp_path / "bad.yaml") in result.output


def test_a_missing_file_and_invalid_yaml(run: Run, tmp_path: Path) -> None:
    missing = run("apply", "-f", str(tmp_path / "nowhere.yaml"))
    assert missing.exit_code == 1 and "No such file" in missing.output
    (tmp_path / "broken.yaml").write_text("models: [\n")
    broken = run("apply", "-f", str(tmp_path / "broken.yaml"))
    assert broken.exit_code == 1 and "invalid YAML" in broken.output


def test_a_changed_config_for_a_failed_endpoint_reports_why_it_cannot_switch(run: Run, tmp_path: Path) -> None:
    suffix = unique("upd")
    document = declaration(suffix)
    document["endpoints"] = [{"name": f"e-{suffix}", "config": f"c-{suffix}"}]
    assert run("apply", "-f", str(write(tmp_path / "v1.yaml", document)), "--wait").exit_code == 1  # model missing
    document["endpointConfigs"].append(  # type: ignore[attr-defined]
        {"name": f"c2-{suffix}", "variants": [{"name": "blue", "model": f"m-{suffix}"}]})
    document["endpoints"] = [{"name": f"e-{suffix}", "config": f"c2-{suffix}"}]
    result = run("apply", "-f", str(write(tmp_path / "v2.yaml", document)), "--yes")
    assert result.exit_code == 1
    assert "Cannot update in-progress endpoint" in result.output and "Failed" in result.output
    run("endpoint", "delete", f"e-{suffix}")


def test_apply_shows_its_plan_and_asks_before_updating_an_endpoint(run: Run, server_url: str, tmp_path: Path,
                                                                    model_urls: list[str]) -> None:
    suffix = unique("plan")
    endpoint = f"e-{suffix}"
    document: dict[str, Any] = {
        "models": [{"name": f"m-{suffix}", "image": "greenfleet/sklearn", "modelDataUrl": model_urls[0]}],
        "endpointConfigs": [{"name": f"c1-{suffix}", "variants": [{"name": "blue", "model": f"m-{suffix}"}]}],
        "endpoints": [{"name": endpoint, "config": f"c1-{suffix}"}]}
    created = run("apply", "-f", str(write(tmp_path / "v1.yaml", document)))
    assert created.exit_code == 0, created.output
    plan = created.stdout.split("Applied")[0]
    assert [line.split("│")[2].strip() for line in plan.splitlines() if suffix in line] == ["create"] * 3
    assert f"follow it with: greenfleet endpoint describe {endpoint}" in created.stderr
    with Client(server_url) as client:
        client.wait_for_endpoint(EndpointName=endpoint, Timeout=60)

    document["endpointConfigs"].append({"name": f"c2-{suffix}", "variants": [{"name": "green",
                                                                              "model": f"m-{suffix}"}]})
    document["endpoints"] = [{"name": endpoint, "config": f"c2-{suffix}"}]
    v2 = str(write(tmp_path / "v2.yaml", document))
    declined = run("apply", "-f", v2, input="n\n")
    assert declined.exit_code == 1
    assert f"c1-{suffix} -> c2-{suffix} (a deployment)" in declined.stdout and " update " in declined.stdout
    assert f"Update 1 existing endpoint ({endpoint})?" in declined.stderr
    assert "nothing applied (--yes applies without asking)" in declined.stderr
    assert json.loads(run("endpoint", "describe", endpoint, "--json").stdout)["EndpointConfigName"] == \
        f"c1-{suffix}"
    assert run("model", "describe", f"m-{suffix}").exit_code == 0  # and the new config was not created either
    assert run("config", "describe", f"c2-{suffix}").exit_code == 1

    accepted = run("apply", "-f", v2, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"follow the deployment with: greenfleet deployment describe {endpoint}" in accepted.stderr
    with Client(server_url) as client:
        assert client.wait_for_deployment(EndpointName=endpoint, Timeout=60)["EndpointConfigName"] == f"c2-{suffix}"
    run("endpoint", "delete", endpoint)
