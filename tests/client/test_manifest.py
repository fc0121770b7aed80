"""The YAML manifest: parsing (both forms), validation with YAML paths, and idempotent apply."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from greenfleet import manifest
from greenfleet.client import Client
from tests.client.live import unique

EXAMPLE = Path(__file__).parents[2] / "examples" / "endpoint.yaml"


def problems_of(document: Any) -> list[str]:
    with pytest.raises(manifest.ManifestError) as caught:
        manifest.parse(document, Path("/manifests"))
    return caught.value.problems


def declaration(suffix: str, image: str = "greenfleet/sklearn", config: str | None = None) -> dict[str, Any]:
    return {
        "models": [{"name": f"m-{suffix}", "image": image, "modelDataUrl": "missing/model.tar.gz"}],
        "endpointConfigs": [{"name": f"c-{suffix}", "variants": [{"name": "blue", "model": f"m-{suffix}"}]}],
        "endpoints": [{"name": f"e-{suffix}", "config": config or f"c-{suffix}"}],
    }


def test_the_short_form_becomes_sagemaker_requests() -> None:
    parsed = manifest.parse({
        "models": [{"name": "m1", "image": "greenfleet/sklearn", "modelDataUrl": "models/m1.tar.gz",
                    "environment": {"N": 1}, "tags": {"team": "risk"}}],
        "endpointConfigs": [{"name": "c1", "variants": [{"name": "blue", "model": "m1", "weight": 0.7,
                                                         "routing": "RANDOM"}]}],
        "endpoints": [{"name": "e1", "config": "c1"}],
    }, Path("/manifests"))
    assert parsed.models[0].params == {
        "ModelName": "m1", "Tags": [{"Key": "team", "Value": "risk"}],
        "PrimaryContainer": {"Image": "greenfleet/sklearn", "ModelDataUrl": "/manifests/models/m1.tar.gz",
                             "Environment": {"N": "1"}}}
    assert parsed.configs[0].params["ProductionVariants"] == [{
        "VariantName": "blue", "ModelName": "m1", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large",
        "InitialVariantWeight": 0.7, "RoutingConfig": {"RoutingStrategy": "RANDOM"}}]
    assert parsed.endpoints[0].params == {"EndpointName": "e1", "EndpointConfigName": "c1"}
    assert parsed.endpoints[0].refs == [("endpoints[0].config", "c1")]


def test_sagemaker_requests_pass_through() -> None:
    model = {"ModelName": "m1", "PrimaryContainer": {"Image": "greenfleet/sklearn", "ModelDataUrl": "s3://b/k"}}
    parsed = manifest.parse({"models": [model]}, Path("/manifests"))
    assert parsed.models[0].params == model


def test_every_problem_is_reported_with_its_yaml_path() -> None:
    problems = problems_of({
        "models": [{"name": "m1"}, {"name": "m1", "image": "x", "colour": "red"}, {"name": "bad_name", "image": "x"}],
        "endpointConfigs": [{"name": "c1", "variants": [{"name": "a", "model": "m1"},
                                                        {"name": "b", "model": "m1", "weight": "heavy"}]}],
        "endpoints": "e1",
        "extras": [],
    })
    assert "models[0].image: required" in problems
    assert any(p.startswith("models[1].colour: unknown key") for p in problems)
    assert "models[1]: duplicate model name 'm1' (also models[0])" in problems
    assert any(p.startswith("models[2]: 1 validation error detected") and "modelName" in p for p in problems)
    assert "endpointConfigs[0].variants[1].weight: expected a number, got str" in problems
    assert "endpoints: expected a list, got str" in problems
    assert any(p.startswith("extras: unknown section") for p in problems)


def test_an_empty_manifest_is_an_error() -> None:
    assert problems_of({"models": []}) == [
        "(top level): nothing to apply; expected some of: models, endpointConfigs, endpoints, "
        "modelPackageGroups, registryBindings"]
    assert problems_of(["models"]) == ["(top level): expected a mapping, got list"]


def test_invalid_yaml_reports_the_line(tmp_path: Path) -> None:
    path = tmp_path / "endpoint.yaml"
    path.write_text("models:\n  - name: [unclosed\n")
    with pytest.raises(manifest.ManifestError) as caught:
        manifest.load(path)
    assert caught.value.problems[0].startswith(f"{path}:3:")


def test_the_example_manifest_is_valid() -> None:
    parsed = manifest.load(EXAMPLE)
    assert [r.name for r in parsed.all()] == ["example-lr-c1", "example-lr-c01", "example-config-v1",
                                              "example-endpoint"]  # names of its own, never the README's churn


def test_apply_twice_changes_nothing_the_second_time(client: Client) -> None:
    declared = manifest.parse(declaration(unique("idem")), Path("/manifests"))
    first = manifest.apply(declared, client)
    assert [c.action for c in first] == ["created", "created", "created"]
    second = manifest.apply(declared, client)
    assert [(c.kind, c.action) for c in second] == [("model", "unchanged"), ("endpoint-config", "unchanged"),
                                                   ("endpoint", "unchanged")]
    client.delete_endpoint(EndpointName=declared.endpoints[0].name)


def test_a_changed_model_is_a_conflict_and_nothing_is_created(client: Client) -> None:
    suffix = unique("immut")
    manifest.apply(manifest.parse({"models": declaration(suffix)["models"]}, Path("/m")), client)
    changed = declaration(suffix, image="greenfleet/xgboost")
    with pytest.raises(manifest.ManifestError) as caught:
        manifest.apply(manifest.parse(changed, Path("/m")), client)
    assert caught.value.problems == [
        f"models[0]: model 'm-{suffix}' already exists with a different definition (PrimaryContainer.Image); "
        "it is immutable: give the changed version a new name"]
    assert client.list_endpoint_configs(NameContains=suffix)["EndpointConfigs"] == []


def test_a_missing_reference_names_its_path(client: Client) -> None:
    with pytest.raises(manifest.ManifestError) as caught:
        manifest.apply(manifest.parse({"endpoints": [{"name": unique("e"), "config": "ghost"}]}, Path("/m")), client)
    assert caught.value.problems == [
        "endpoints[0].config: endpoint-config 'ghost' is neither in the manifest nor on the server"]


def test_a_new_config_for_an_existing_endpoint_is_an_update_endpoint(client: Client, sklearn_model: Path) -> None:
    suffix = unique("switch")
    first = declaration(suffix)
    first["models"][0]["modelDataUrl"] = str(sklearn_model)
    manifest.apply(manifest.parse(first, Path("/m")), client, wait=True, timeout_s=60)
    moved = declaration(suffix, config=f"c2-{suffix}")
    moved["models"][0]["modelDataUrl"] = str(sklearn_model)
    moved["endpointConfigs"].append({"name": f"c2-{suffix}", "variants": [{"name": "blue", "model": f"m-{suffix}"}]})
    changes = manifest.apply(manifest.parse(moved, Path("/m")), client, wait=True, timeout_s=60)
    assert [(c.name, c.action) for c in changes][-2:] == [(f"c2-{suffix}", "created"), (f"e-{suffix}", "updated")]
    assert client.describe_endpoint(f"e-{suffix}")["EndpointConfigName"] == f"c2-{suffix}"
    assert manifest.apply(manifest.parse(moved, Path("/m")), client)[-1].action == "unchanged"
    client.delete_endpoint(EndpointName=f"e-{suffix}")


def test_yaml_round_trip_of_the_declaration(tmp_path: Path, client: Client) -> None:
    path = tmp_path / "endpoint.yaml"
    path.write_text(yaml.safe_dump({"models": declaration(unique("file"))["models"]}))
    declared = manifest.load(path)
    assert declared.models[0].params["PrimaryContainer"]["ModelDataUrl"] == str(tmp_path / "missing/model.tar.gz")
    assert [c.action for c in manifest.apply(declared, client)] == ["created"]
