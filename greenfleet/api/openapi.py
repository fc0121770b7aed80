"""The OpenAPI document (/openapi.json, /docs) with each operation's real request and response schemas.

Routes read their JSON body as a plain object and the services validate it against botocore's model
(greenfleet.resources.servicemodel), so that errors keep SageMaker's and CloudWatch's codes and wording.
This module writes the same model into the document: each route's operation (greenfleet.operations) names
its wire operation, whose input and output shapes become JSON Schema components (``sagemaker.CreateModelInput``,
``cloudwatch.MetricAlarm``, ...); greenfleet's own operations take theirs from greenfleet.api.shapes. The
document is built on its first request, so the server does not load botocore's models to start."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from greenfleet.api.routing import BODY_MARK
from greenfleet.operations import OPERATIONS, Operation, by_name

if TYPE_CHECKING:
    from botocore.model import Shape

JsonSchema = dict[str, Any]
REF = "#/components/schemas/"
PATH_MEMBERS = ("EndpointName", "AlarmName", "MonitoringScheduleName", "JobDefinitionName")
"""Members a route takes from its path ({name}) rather than from its body."""
NAMES = {op.name for op in OPERATIONS}
EXTENSIONS = {"sagemaker.DeploymentConfig": {"GreenfleetRollout": "greenfleet:RolloutExtension"}}
"""Members greenfleet adds to a wire shape (its own API, client and CLI take them; boto3 does not)."""


class _Components:
    """JSON Schema of botocore shapes, one component per structure (so recursive shapes terminate)."""

    def __init__(self) -> None:
        self.schemas: dict[str, JsonSchema] = {}

    def shape(self, shape: Shape, service: str) -> JsonSchema:
        kind = shape.type_name
        if kind == "structure":
            return self._structure(shape, service)
        if kind == "list":
            schema: JsonSchema = {"type": "array", "items": self.shape(shape.member, service)}
            return {**schema, **_bounds(shape, "minItems", "maxItems")}
        if kind == "map":
            return {"type": "object", "additionalProperties": self.shape(shape.value, service)}
        if kind == "string":
            schema = {"type": "string", **_bounds(shape, "minLength", "maxLength")}
            if shape.enum:
                schema["enum"] = list(shape.enum)
            return schema
        if kind in ("integer", "long"):
            return {"type": "integer", **_bounds(shape, "minimum", "maximum")}
        if kind in ("float", "double"):
            return {"type": "number", **_bounds(shape, "minimum", "maximum")}
        if kind == "boolean":
            return {"type": "boolean"}
        if kind == "timestamp":
            return {"type": ["number", "string"], "description": "epoch seconds (or ISO 8601 in a request)"}
        if kind == "blob":
            return {"type": "string", "contentEncoding": "base64"}
        return {}

    def _structure(self, shape: Shape, service: str) -> JsonSchema:
        name = f"{service}.{shape.name}"
        if name not in self.schemas:
            self.schemas[name] = {}  # a placeholder while the members are walked
            schema: JsonSchema = {"type": "object", "properties": {
                member: self.shape(member_shape, service) for member, member_shape in shape.members.items()}}
            if shape.required_members:
                schema["required"] = list(shape.required_members)
            self.schemas[name] = schema
        return {"$ref": REF + name}

    def operation(self, service: str, operation: str, side: str) -> JsonSchema:
        from greenfleet.resources.servicemodel import operation_model  # botocore: only when a document is built

        model = operation_model(service, operation)
        shape = model.input_shape if side == "input" else model.output_shape
        if shape is None:
            return self.named("greenfleet:Empty")
        return self.shape(shape, service)

    def named(self, ref: str) -> JsonSchema:
        """``greenfleet:Deployment`` (greenfleet.api.shapes) or ``cloudwatch:MetricAlarm`` (botocore)."""
        source, _, name = ref.partition(":")
        if source == "greenfleet":
            from greenfleet.api.shapes import SHAPES

            schema = SHAPES[name].model_json_schema(ref_template=REF + "{model}")
            self.schemas.update(schema.pop("$defs", {}))
            self.schemas[name] = schema
            return {"$ref": REF + name}
        from greenfleet.resources.servicemodel import service_model

        return self.shape(service_model(source).shape_for(name), source)


def _bounds(shape: Shape, low_key: str, high_key: str) -> JsonSchema:
    bounds: JsonSchema = {}
    if shape.metadata.get("min") is not None:
        bounds[low_key] = shape.metadata["min"]
    if shape.metadata.get("max") is not None:
        bounds[high_key] = shape.metadata["max"]
    return bounds


def _request(components: _Components, op: Operation, path: str) -> JsonSchema:
    if op.request is not None:
        return components.named(op.request)
    assert op.wire is not None, f"{op.name} reads a body: name its shape in greenfleet.operations"
    ref = components.operation(op.wire, op.name, "input")
    if "{name}" not in path:
        return ref
    target = components.schemas[ref["$ref"].removeprefix(REF)]  # a copy without the member from the path
    required = [m for m in target.get("required", []) if m not in PATH_MEMBERS]
    body: JsonSchema = {**target, "required": required}
    return body if required else {k: v for k, v in body.items() if k != "required"}


def _response(components: _Components, op: Operation) -> JsonSchema:
    if op.response is not None:
        return components.named(op.response)
    assert op.wire is not None, f"{op.name}: name its response shape in greenfleet.operations"
    return components.operation(op.wire, op.name, "output")


LISTING_WIRES = ("sagemaker", "application-autoscaling")
"""Wires whose GET routes read the operation's members from the query string."""


def _query_parameters(components: _Components, op: Operation) -> list[JsonSchema]:
    """A SageMaker List* operation's members, which its route reads from the query string."""
    assert op.wire is not None
    ref = components.operation(op.wire, op.name, "input")
    target = components.schemas[ref["$ref"].removeprefix(REF)]
    return [{"name": member, "in": "query", "required": member in target.get("required", []), "schema": schema}
            for member, schema in target["properties"].items() if "$ref" not in schema]


def document(app: FastAPI) -> JsonSchema:
    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = _Components()
    for path, item in doc["paths"].items():
        for method, entry in item.items():
            if entry.get("operationId", "").split("_")[0] not in NAMES:
                continue
            op = by_name(entry["operationId"].split("_")[0])
            kind = entry.pop(BODY_MARK, None)
            if kind is not None:
                entry["requestBody"] = {"required": kind == "required", "content": {
                    "application/json": {"schema": _request(components, op, path)}}}
            elif method == "get" and op.wire in LISTING_WIRES and not entry.get("parameters"):
                entry["parameters"] = _query_parameters(components, op)
            for status, response in entry["responses"].items():
                if status.startswith("2"):
                    response["content"] = {"application/json": {"schema": _response(components, op)}}
    for component, members in EXTENSIONS.items():
        if component in components.schemas:
            for member, ref in members.items():
                components.schemas[component]["properties"][member] = components.named(ref)
    doc.setdefault("components", {}).setdefault("schemas", {}).update(components.schemas)
    return doc


def install(app: FastAPI) -> None:
    def openapi() -> JsonSchema:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
