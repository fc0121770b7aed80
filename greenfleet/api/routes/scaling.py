"""Application Auto Scaling on the native REST API: bodies and answers are its wire shapes. A listing takes
its members from the query string (ServiceNamespace defaults to sagemaker; ResourceIds and PolicyNames may
repeat)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from greenfleet.api.routing import json_body, route, services
from greenfleet.errors import ValidationError
from greenfleet.scaling.service import ScalingService
from greenfleet.services import Services

router = APIRouter()
Doc = dict[str, Any]
LISTS = ("ResourceIds", "PolicyNames")


def _scaling(s: Services) -> ScalingService:
    if s.scaling is None:
        raise ValidationError("Application Auto Scaling is not enabled on this server")
    return s.scaling


def _listing(request: Request) -> Doc:
    params: Doc = {"ServiceNamespace": "sagemaker"}
    for key, value in request.query_params.items():
        if key in LISTS:
            params[key] = request.query_params.getlist(key)
        elif key == "MaxResults":
            params[key] = int(value) if value.isdigit() else value
        elif key == "IncludeNotScaledActivities":
            params[key] = value.lower() in ("1", "true", "yes")
        else:
            params[key] = value
    return params


@route(router, "RegisterScalableTarget")
def register(body: Doc = Depends(json_body), s: Services = Depends(services)) -> Doc:
    return _scaling(s).register_scalable_target(body)


@route(router, "DescribeScalableTargets")
def describe_targets(request: Request, s: Services = Depends(services)) -> Doc:
    return _scaling(s).describe_scalable_targets(_listing(request))


@route(router, "DeregisterScalableTarget")
def deregister(body: Doc = Depends(json_body), s: Services = Depends(services)) -> Doc:
    return _scaling(s).deregister_scalable_target(body)


@route(router, "PutScalingPolicy")
def put_policy(body: Doc = Depends(json_body), s: Services = Depends(services)) -> Doc:
    return _scaling(s).put_scaling_policy(body)


@route(router, "DescribeScalingPolicies")
def describe_policies(request: Request, s: Services = Depends(services)) -> Doc:
    return _scaling(s).describe_scaling_policies(_listing(request))


@route(router, "DeleteScalingPolicy")
def delete_policy(body: Doc = Depends(json_body), s: Services = Depends(services)) -> Doc:
    return _scaling(s).delete_scaling_policy(body)


@route(router, "DescribeScalingActivities")
def describe_activities(request: Request, s: Services = Depends(services)) -> Doc:
    return _scaling(s).describe_scaling_activities(_listing(request))
