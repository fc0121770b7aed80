"""UpdateEndpoint and the history of an endpoint's deployments."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from greenfleet.api.routing import Doc, json_body, optional_json_body, route, services, with_path_name

router = APIRouter()


@route(router, "UpdateEndpoint")
def update_endpoint(request: Request, name: str, body: Doc = Depends(json_body),
                    AllowMissingAlarms: bool = False) -> Doc:
    return services(request).deployments.update_endpoint(with_path_name(body, "EndpointName", name),
                                                         allow_missing_alarms=AllowMissingAlarms)


@route(router, "ListDeployments")
def list_deployments(request: Request, name: str) -> Doc:
    return services(request).deployments.list_deployments(name)


@route(router, "DescribeDeployment")
def describe_deployment(request: Request, name: str, deployment_id: str) -> Doc:
    """``latest``: the newest deployment."""
    return services(request).deployments.describe_deployment(name, None if deployment_id == "latest" else deployment_id)


@route(router, "CommandDeployment")
def command(request: Request, name: str, command: str, body: Doc = Depends(optional_json_body)) -> Doc:
    return services(request).deployments.command(name, command, by=str(body.get("By") or "api"),
                                                 reason=str(body.get("Reason") or ""),
                                                 command_id=body.get("CommandId"))
