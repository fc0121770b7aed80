"""Models, endpoint configurations, endpoints and tags. Bodies and answers are SageMaker's shapes."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from greenfleet.api.routing import Doc, json_body, query, route, services, with_path_name

router = APIRouter()


@route(router, "CreateModel")
def create_model(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return services(request).models.create_model(body)


@route(router, "ListModels")
def list_models(request: Request) -> Doc:
    return services(request).models.list_models(query(request))


@route(router, "DescribeModel")
def describe_model(request: Request, name: str) -> Doc:
    return services(request).models.describe_model({"ModelName": name})


@route(router, "DeleteModel")
def delete_model(request: Request, name: str) -> Doc:
    return services(request).models.delete_model({"ModelName": name})


@route(router, "CreateEndpointConfig")
def create_endpoint_config(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return services(request).models.create_endpoint_config(body)


@route(router, "ListEndpointConfigs")
def list_endpoint_configs(request: Request) -> Doc:
    return services(request).models.list_endpoint_configs(query(request))


@route(router, "DescribeEndpointConfig")
def describe_endpoint_config(request: Request, name: str) -> Doc:
    return services(request).models.describe_endpoint_config({"EndpointConfigName": name})


@route(router, "DeleteEndpointConfig")
def delete_endpoint_config(request: Request, name: str) -> Doc:
    return services(request).models.delete_endpoint_config({"EndpointConfigName": name})


@route(router, "CreateEndpoint")
def create_endpoint(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return services(request).endpoints.create_endpoint(body)


@route(router, "ListEndpoints")
def list_endpoints(request: Request) -> Doc:
    return services(request).endpoints.list_endpoints(query(request))


@route(router, "DescribeEndpoint")
def describe_endpoint(request: Request, name: str) -> Doc:
    return services(request).endpoints.describe_endpoint({"EndpointName": name})


@route(router, "DeleteEndpoint")
def delete_endpoint(request: Request, name: str) -> Doc:
    return services(request).endpoints.delete_endpoint({"EndpointName": name})


@route(router, "ListInstances")
def list_instances(request: Request, name: str) -> Doc:
    return services(request).endpoints.list_instances(name)


@route(router, "UpdateEndpointWeightsAndCapacities")
def update_weights(request: Request, name: str, body: Doc = Depends(json_body)) -> Doc:
    return services(request).endpoints.update_weights_and_capacities(with_path_name(body, "EndpointName", name))


@route(router, "AddTags")
def add_tags(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return services(request).tags.add_tags(body)


@route(router, "ListTags")
def list_tags(request: Request) -> Doc:
    return services(request).tags.list_tags(query(request))


@route(router, "DeleteTags")
def delete_tags(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return services(request).tags.delete_tags(body)
