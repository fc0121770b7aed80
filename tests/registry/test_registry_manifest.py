"""``greenfleet apply``'s registry sections: model package groups and deployment bindings, idempotently."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from greenfleet import manifest
from greenfleet.client import Client
from greenfleet.server import Server


def test_groups_and_bindings_apply_idempotently(server: Server, sklearn_model: Path, tmp_path: Path) -> None:
    document = {
        "modelPackageGroups": [{"name": "mf", "description": "from a manifest"}],
        "models": [{"name": "mf-m", "image": "greenfleet/sklearn", "modelDataUrl": str(sklearn_model)}],
        "endpointConfigs": [{"name": "mf-c", "variants": [{"name": "main", "model": "mf-m"}]}],
        "endpoints": [{"name": "mf-e", "config": "mf-c"}],
        "registryBindings": [{"endpoint": "mf-e", "group": "mf", "deploymentConfig": {
            "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE",
                                                                      "WaitIntervalInSeconds": 0}}}}],
    }
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(document))
    with Client(server.settings.base_url) as client:
        first = manifest.apply(manifest.load(path), client)
        assert [(c.kind, c.action) for c in first] == [
            ("model-package-group", "created"), ("model", "created"), ("endpoint-config", "created"),
            ("endpoint", "created"), ("registry-binding", "created")]
        again = manifest.apply(manifest.load(path), client)
        assert {c.action for c in again} == {"unchanged"}
        binding = client.describe_registry_binding(EndpointName="mf-e")
        assert binding["ModelPackageGroupName"] == "mf" and binding["VariantName"] == "main"
        document["registryBindings"][0]["variant"] = "other"
        document["registryBindings"].append({"endpoint": "mf-e2", "group": "missing"})
        path.write_text(yaml.safe_dump(document))
        with pytest.raises(manifest.ManifestError) as info:
            manifest.apply(manifest.load(path), client)
        problems = "\n".join(info.value.problems)
        assert "already bound differently" in problems and "'missing' is neither" in problems
