"""``greenfleet apply -f``: idempotent, and a bad manifest is reported with its YAML path."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

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
    assert [(c["kind"], c["action"]) for c in json.loads(first.output)["Changes"]] == [
        ("model", "created"), ("endpoint-config", "created")]
    second = run("apply", "-f", str(path))
    assert second.exit_code == 0
    assert second.output.count("unchanged") == 2 and "created" not in second.output
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
    result = run("apply", "-f", str(write(tmp_path / "v2.yaml", document)))
    assert result.exit_code == 1
    assert "Cannot update in-progress endpoint" in result.output and "Failed" in result.output
    run("endpoint", "delete", f"e-{suffix}")
