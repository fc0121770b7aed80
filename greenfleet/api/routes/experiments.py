"""Inference experiments (SageMaker's shadow tests) on the native REST API. Bodies and answers are
SageMaker's shapes; greenfleet's own extension (``DeploymentConfig`` on create: how a Promote deploys) is
accepted here, never through boto3."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from greenfleet.api.routing import Doc, json_body, optional_json_body, query, route, services
from greenfleet.errors import ValidationError
from greenfleet.experiments.service import ExperimentService

router = APIRouter()


def _experiments(request: Request) -> ExperimentService:
    found = services(request).experiments
    if found is None:
        raise ValidationError("This server runs no inference experiments")
    return found


@route(router, "CreateInferenceExperiment")
def create(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _experiments(request).create_inference_experiment(body)


@route(router, "ListInferenceExperiments")
def list_experiments(request: Request) -> Doc:
    return _experiments(request).list_inference_experiments(query(request))


@route(router, "DescribeInferenceExperiment")
def describe(request: Request, name: str) -> Doc:
    return _experiments(request).describe_inference_experiment({"Name": name})


@route(router, "UpdateInferenceExperiment")
def update(request: Request, name: str, body: Doc = Depends(json_body)) -> Doc:
    return _experiments(request).update_inference_experiment({**body, "Name": name})


@route(router, "StartInferenceExperiment")
def start(request: Request, name: str, body: Doc = Depends(optional_json_body)) -> Doc:
    return _experiments(request).start_inference_experiment({"Name": name})


@route(router, "StopInferenceExperiment")
def stop(request: Request, name: str, body: Doc = Depends(json_body)) -> Doc:
    return _experiments(request).stop_inference_experiment({**body, "Name": name})


@route(router, "DeleteInferenceExperiment")
def delete(request: Request, name: str) -> Doc:
    return _experiments(request).delete_inference_experiment({"Name": name})


@route(router, "InferenceExperimentReport")
def report(request: Request, name: str) -> Doc:
    return _experiments(request).report(name)
