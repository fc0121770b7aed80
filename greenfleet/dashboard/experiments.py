"""Pages: inference experiments (shadow tests) and A/B tests with their status; one experiment with its paired
comparison report (the data ``GET /api/inference-experiments/{name}/report`` serves); one A/B test with its
per-variant samples, lift and decision (``GET /api/ab-tests/{name}``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from greenfleet.dashboard.access import GuardedRoute, experiment_service, feedback_service, services
from greenfleet.dashboard.render import fragment, page
from greenfleet.errors import GreenfleetError
from greenfleet.experiments.service import ExperimentService
from greenfleet.feedback.service import FeedbackService

__all__ = ["router"]

router = APIRouter(route_class=GuardedRoute, include_in_schema=False)
Doc = dict[str, Any]


def _overview(service: ExperimentService, feedback: FeedbackService | None) -> Doc:
    """Shadow tests newest first, and A/B tests newest first (None on a server without feedback)."""
    listed = service.list_inference_experiments({"SortBy": "CreationTime", "SortOrder": "Descending"})
    return {"Experiments": listed["InferenceExperiments"],
            "AbTests": feedback.list_ab_tests()["AbTests"] if feedback is not None else None}


def _experiment(service: ExperimentService, name: str) -> Doc:
    return {"Experiment": service.describe_inference_experiment({"Name": name}), "Report": service.report(name)}


@router.get("/ui/experiments")
def experiments(request: Request) -> Response:
    view = _overview(experiment_service(request), services(request).feedback)
    return page(request, "experiments.html", "Inference experiments", "experiments", view=view)


@router.get("/ui/fragments/experiments")
def experiments_live(request: Request) -> Response:
    return fragment("experiments_live.html", view=_overview(experiment_service(request),
                                                                    services(request).feedback))


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


@router.get("/ui/ab-tests/{name}")
def ab_test(request: Request, name: str) -> Response:
    try:
        view = feedback_service(request).describe_ab_test(name)
    except GreenfleetError as exc:
        return page(request, "missing.html", "Not found", "experiments", status_code=404, message=exc.message)
    return page(request, "ab_test.html", f"{name}: A/B test", "experiments", view=view)


@router.get("/ui/ab-tests/{name}/fragments/live")
def ab_test_live(request: Request, name: str) -> Response:
    return fragment("ab_test_live.html", view=feedback_service(request).describe_ab_test(name))
