"""UpdateEndpoint and the history of an endpoint's deployments."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request

from greenfleet.api.routes.hosting import with_path_name

router = APIRouter(prefix="/api")
Doc = dict[str, Any]


@router.post("/endpoints/{name}/update", summary="UpdateEndpoint (blue/green or rolling, with auto-rollback)")
def update_endpoint(request: Request, name: str, body: Doc = Body(...),
                    AllowMissingAlarms: bool = False) -> Doc:
    return request.app.state.services.deployments.update_endpoint(  # type: ignore[no-any-return]
        with_path_name(body, "EndpointName", name), allow_missing_alarms=AllowMissingAlarms)


@router.get("/endpoints/{name}/deployments", summary="Past and current deployments of an endpoint")
def list_deployments(request: Request, name: str) -> Doc:
    return request.app.state.services.deployments.list_deployments(name)  # type: ignore[no-any-return]


@router.get("/endpoints/{name}/deployments/latest", summary="The newest deployment, with its timeline")
def latest_deployment(request: Request, name: str) -> Doc:
    return request.app.state.services.deployments.describe_deployment(name)  # type: ignore[no-any-return]


@router.get("/endpoints/{name}/deployments/{deployment_id}", summary="One deployment, with its timeline")
def describe_deployment(request: Request, name: str, deployment_id: str) -> Doc:
    return request.app.state.services.deployments.describe_deployment(  # type: ignore[no-any-return]
        name, deployment_id)


@router.post("/endpoints/{name}/deployment/{command}", status_code=202,
             summary="Command the running deployment: abort, pause, resume, approve or promote")
def command(request: Request, name: str, command: str, body: Doc = Body(default={})) -> Doc:
    return request.app.state.services.deployments.command(  # type: ignore[no-any-return]
        name, command, by=str(body.get("By") or "api"), reason=str(body.get("Reason") or ""),
        command_id=body.get("CommandId"))
