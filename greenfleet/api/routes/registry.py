"""The model registry on the native REST API: groups, versions, approvals, the audit trail, the
``champion`` alias, "which version served endpoint E at time T" and deployment bindings. Bodies and
answers are SageMaker's shapes where SageMaker has the operation. ``X-Greenfleet-Caller`` names who acts
(recorded in the audit trail)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request

from greenfleet.api.routing import json_body, route
from greenfleet.metrics.timestamps import parse_time
from greenfleet.registry.caller import CALLER_HEADER, acting_as, from_header

router = APIRouter()
Doc = dict[str, Any]
INTEGERS = ("MaxResults",)


def _as_caller(request: Request, call: Callable[[], Doc]) -> Doc:
    with acting_as(from_header(request.headers.get(CALLER_HEADER))):
        return call()


def _registry(request: Request) -> Any:
    return request.app.state.services.registry


def _query(request: Request) -> Doc:
    return {k: int(v) if k in INTEGERS and v.isdigit() else v for k, v in request.query_params.items()}


@route(router, "CreateModelPackageGroup")
def create_group(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _as_caller(request, lambda: _registry(request).create_model_package_group(body))


@route(router, "ListModelPackageGroups")
def list_groups(request: Request) -> Doc:
    return _registry(request).list_model_package_groups(_query(request))  # type: ignore[no-any-return]


@route(router, "DescribeModelPackageGroup")
def describe_group(request: Request, name: str) -> Doc:
    return _registry(request).describe_model_package_group(  # type: ignore[no-any-return]
        {"ModelPackageGroupName": name})


@route(router, "DeleteModelPackageGroup")
def delete_group(request: Request, name: str) -> Doc:
    return _as_caller(request, lambda: _registry(request).delete_model_package_group({"ModelPackageGroupName": name}))


@route(router, "ModelPackageHistory")
def history(request: Request, name: str, version: int | None = None) -> Doc:
    return request.app.state.services.registry_audit.history(name, version)  # type: ignore[no-any-return]


@route(router, "Champion")
def champion(request: Request, name: str) -> Doc:
    return request.app.state.services.bindings.champion(name)  # type: ignore[no-any-return]


@route(router, "CreateModelPackage")
def create_package(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _as_caller(request, lambda: _registry(request).create_model_package(body))


@route(router, "ListModelPackages")
def list_packages(request: Request) -> Doc:
    return _registry(request).list_model_packages(_query(request))  # type: ignore[no-any-return]


@route(router, "DescribeModelPackage")
def describe_package(request: Request, group: str, version: int) -> Doc:
    return _registry(request).describe_model_package(  # type: ignore[no-any-return]
        {"ModelPackageName": f"{group}/{version}"})


@route(router, "UpdateModelPackage")
def update_package(request: Request, group: str, version: int, body: Doc = Depends(json_body)) -> Doc:
    registry = _registry(request)
    arn = registry.package(f"{group}/{version}")["arn"]
    return _as_caller(request, lambda: registry.update_model_package({**body, "ModelPackageArn": arn}))


@route(router, "DeleteModelPackage")
def delete_package(request: Request, group: str, version: int) -> Doc:
    return _as_caller(request, lambda: _registry(request).delete_model_package(
        {"ModelPackageName": f"{group}/{version}"}))


@route(router, "ServedAt")
def served(request: Request, EndpointName: str, At: str) -> Doc:
    return request.app.state.services.registry_audit.served(  # type: ignore[no-any-return]
        EndpointName, parse_time(At, "At"))


@route(router, "CreateRegistryBinding")
def bind(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _as_caller(request, lambda: request.app.state.services.bindings.bind(body))


@route(router, "ListRegistryBindings")
def list_bindings(request: Request, ModelPackageGroupName: str | None = None) -> Doc:
    return request.app.state.services.bindings.list_bindings(ModelPackageGroupName)  # type: ignore[no-any-return]


@route(router, "DescribeRegistryBinding")
def describe_binding(request: Request, endpoint: str) -> Doc:
    return request.app.state.services.bindings.describe(endpoint)  # type: ignore[no-any-return]


@route(router, "DeleteRegistryBinding")
def unbind(request: Request, endpoint: str) -> Doc:
    return request.app.state.services.bindings.unbind(endpoint)  # type: ignore[no-any-return]
