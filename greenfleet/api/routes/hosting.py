"""Models, endpoint configurations and endpoints. Bodies and answers are SageMaker's shapes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from greenfleet.errors import ValidationError

router = APIRouter(prefix="/api")
Doc = dict[str, Any]


def _svc(request: Request) -> Any:
    return request.app.state.services


def with_path_name(body: Doc, key: str, name: str) -> Doc:
    """``body`` with ``key`` set to the name in the path; a body naming another resource is refused."""
    given = body.get(key)
    if given is not None and given != name:
        raise ValidationError(f"{key} '{given}' in the body does not match '{name}' in the path")
    return {**body, key: name}


def _query(request: Request) -> Doc:
    params: Doc = {}
    for key, value in request.query_params.items():
        params[key] = int(value) if key == "MaxResults" and value.isdigit() else value
    return params


@router.post("/models", status_code=201, summary="CreateModel")
def create_model(request: Request, body: Doc = Body(...)) -> Doc:
    return _svc(request).models.create_model(body)  # type: ignore[no-any-return]


@router.get("/models", summary="ListModels")
def list_models(request: Request) -> Doc:
    return _svc(request).models.list_models(_query(request))  # type: ignore[no-any-return]


@router.get("/models/{name}", summary="DescribeModel")
def describe_model(request: Request, name: str) -> Doc:
    return _svc(request).models.describe_model({"ModelName": name})  # type: ignore[no-any-return]


@router.delete("/models/{name}", summary="DeleteModel")
def delete_model(request: Request, name: str) -> Doc:
    return _svc(request).models.delete_model({"ModelName": name})  # type: ignore[no-any-return]


@router.post("/endpoint-configs", status_code=201, summary="CreateEndpointConfig")
def create_endpoint_config(request: Request, body: Doc = Body(...)) -> Doc:
    return _svc(request).models.create_endpoint_config(body)  # type: ignore[no-any-return]


@router.get("/endpoint-configs", summary="ListEndpointConfigs")
def list_endpoint_configs(request: Request) -> Doc:
    return _svc(request).models.list_endpoint_configs(_query(request))  # type: ignore[no-any-return]


@router.get("/endpoint-configs/{name}", summary="DescribeEndpointConfig")
def describe_endpoint_config(request: Request, name: str) -> Doc:
    return _svc(request).models.describe_endpoint_config(  # type: ignore[no-any-return]
        {"EndpointConfigName": name})


@router.delete("/endpoint-configs/{name}", summary="DeleteEndpointConfig")
def delete_endpoint_config(request: Request, name: str) -> Doc:
    return _svc(request).models.delete_endpoint_config(  # type: ignore[no-any-return]
        {"EndpointConfigName": name})


@router.post("/endpoints", status_code=201, summary="CreateEndpoint")
def create_endpoint(request: Request, body: Doc = Body(...)) -> Doc:
    return _svc(request).endpoints.create_endpoint(body)  # type: ignore[no-any-return]


@router.get("/endpoints", summary="ListEndpoints")
def list_endpoints(request: Request) -> Doc:
    return _svc(request).endpoints.list_endpoints(_query(request))  # type: ignore[no-any-return]


@router.get("/endpoints/{name}", summary="DescribeEndpoint")
def describe_endpoint(request: Request, name: str) -> Doc:
    return _svc(request).endpoints.describe_endpoint({"EndpointName": name})  # type: ignore[no-any-return]


@router.delete("/endpoints/{name}", summary="DeleteEndpoint")
def delete_endpoint(request: Request, name: str) -> Doc:
    return _svc(request).endpoints.delete_endpoint({"EndpointName": name})  # type: ignore[no-any-return]


@router.get("/endpoints/{name}/instances", summary="List the instance processes of an endpoint")
def list_instances(request: Request, name: str) -> Doc:
    return _svc(request).endpoints.list_instances(name)  # type: ignore[no-any-return]


@router.post("/endpoints/{name}/weights-and-capacities", summary="UpdateEndpointWeightsAndCapacities")
def update_weights(request: Request, name: str, body: Doc = Body(...)) -> Doc:
    return _svc(request).endpoints.update_weights_and_capacities(  # type: ignore[no-any-return]
        with_path_name(body, "EndpointName", name))


@router.post("/tags", summary="AddTags")
def add_tags(request: Request, body: Doc = Body(...)) -> Doc:
    return _svc(request).tags.add_tags(body)  # type: ignore[no-any-return]


@router.get("/tags", summary="ListTags")
def list_tags(request: Request) -> Doc:
    return _svc(request).tags.list_tags(_query(request))  # type: ignore[no-any-return]


@router.post("/tags/delete", summary="DeleteTags")
def delete_tags(request: Request, body: Doc = Body(...)) -> Doc:
    return _svc(request).tags.delete_tags(body)  # type: ignore[no-any-return]
