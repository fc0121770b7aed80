"""The feedback API and A/B tests on the native REST API (greenfleet's own operations)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from greenfleet.api.routing import Doc, json_body, route, services
from greenfleet.errors import ValidationError
from greenfleet.feedback.service import FeedbackService

router = APIRouter()


def _feedback(request: Request) -> FeedbackService:
    found = services(request).feedback
    if found is None:
        raise ValidationError("This server runs no feedback API")
    return found


@route(router, "PutFeedback")
def put_feedback(request: Request, name: str, body: Doc = Depends(json_body)) -> Doc:
    return _feedback(request).put_feedback(name, body)


@route(router, "CreateAbTest")
def create_ab_test(request: Request, body: Doc = Depends(json_body)) -> Doc:
    return _feedback(request).create_ab_test(body)


@route(router, "ListAbTests")
def list_ab_tests(request: Request) -> Doc:
    return _feedback(request).list_ab_tests()


@route(router, "DescribeAbTest")
def describe_ab_test(request: Request, name: str) -> Doc:
    return _feedback(request).describe_ab_test(name)


@route(router, "DeleteAbTest")
def delete_ab_test(request: Request, name: str) -> Doc:
    return _feedback(request).delete_ab_test(name)
