"""/openapi.json shows each operation's real request and response schemas (from botocore's model of the
wire operation, or greenfleet's own shapes), never an untyped object."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from greenfleet.api.app import create_app


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    app = create_app(SimpleNamespace())  # type: ignore[arg-type]  # the document needs no service
    answer: dict[str, Any] = TestClient(app).get("/openapi.json").json()
    return answer


def _typed(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    """A $ref to a component with properties, or an object schema with its properties spelled out."""
    if "$ref" in schema:
        schema = components[schema["$ref"].removeprefix("#/components/schemas/")]
    return schema.get("type") == "object" and "properties" in schema


def test_no_operation_has_an_untyped_body(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    checked = 0
    for path, item in document["paths"].items():
        for method, entry in item.items():
            where = f"{method.upper()} {path}"
            body = entry.get("requestBody")
            if body is not None:
                assert _typed(body["content"]["application/json"]["schema"], components), f"{where} request"
            for status, response in entry["responses"].items():
                if status.startswith("2"):
                    assert _typed(response["content"]["application/json"]["schema"], components), f"{where} {status}"
                    checked += 1
    assert checked >= 45


def test_schemas_are_the_wire_shapes(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    create = document["paths"]["/api/models"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert create == {"$ref": "#/components/schemas/sagemaker.CreateModelInput"}
    model = components["sagemaker.CreateModelInput"]
    assert "ModelName" in model["required"] and model["properties"]["ModelName"]["maxLength"] == 63
    weights = document["paths"]["/api/endpoints/{name}/weights-and-capacities"]["post"]
    body = weights["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["DesiredWeightsAndCapacities"]  # EndpointName comes from the path
    listing = [p["name"] for p in document["paths"]["/api/endpoints"]["get"]["parameters"]]
    assert {"NameContains", "StatusEquals", "MaxResults", "NextToken"} <= set(listing)
    alarm = document["paths"]["/api/alarms/{name}"]["get"]["responses"]["200"]["content"]["application/json"]
    assert alarm["schema"] == {"$ref": "#/components/schemas/cloudwatch.MetricAlarm"}
    assert components["Deployment"]["properties"]["Timeline"]["type"] == "array"
    rollout = components["sagemaker.DeploymentConfig"]["properties"]["GreenfleetRollout"]  # greenfleet's own member
    assert "Steps" in components[rollout["$ref"].removeprefix("#/components/schemas/")]["properties"]


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    components = document["components"]["schemas"]
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                found.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert len(found) > 100
    assert [ref for ref in found if ref.removeprefix("#/components/schemas/") not in components] == []
