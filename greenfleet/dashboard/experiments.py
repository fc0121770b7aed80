"""Pages: inference experiments (shadow tests) with their status, and one experiment with its paired
comparison report (the data ``GET /api/inference-experiments/{name}/report`` serves)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from greenfleet.dashboard.access import GuardedRoute, experiment_service
from greenfleet.dashboard.render import fragment, page
from greenfleet.errors import GreenfleetError
from greenfleet.experiments.service import ExperimentService

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)
Doc = dict[str, Any]


def _overview(service: ExperimentService) -> Doc:
    listed = service.list_inference_experiments({"SortBy": "CreationTime", "SortOrder": "Descending"})
    return {"Experiments": listed["InferenceExperiments"]}


def _experiment(service: ExperimentService, name: str) -> Doc:
    return {"Experiment": service.describe_inference_experiment({"Name": name}), "Report": service.report(name)}


@router.get("/ui/experiments")
def experiments(request: Request) -> Response:
    view = _overview(experiment_service(request))
    return page(request, "experiments.html", "Inference experiments", "experiments", view=view)


@router.get("/ui/fragments/experiments")
def experiments_live(request: Request) -> Response:
    return fragment("experiments_live.html", view=_overview(experiment_service(request)))


@router.get("/ui/experiments/{name}")
def experiment(request: Request, name: str) -> Response:
    try:
        view = _experiment(experiment_service(request), name)
    except GreenfleetError as exc:
        return page(request, "missing.html", "Not found", "experiments", status_code=404, message=exc.message)
    return page(request, "experiment.html", f"{name}: inference experiment", "experiments", view=view)


@router.get("/ui/experiments/{name}/fragments/live")
def experiment_live(request: Request, name: str) -> Response:
    return fragment("experiment_live.html", view=_experiment(experiment_service(request), name))
