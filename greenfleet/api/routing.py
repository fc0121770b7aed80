"""What every REST route shares: registration from the operations table, the typed services, and the
JSON body read as SageMaker and CloudWatch read it (validated by the services against botocore's
model, so errors keep the wire's codes and wording; the OpenAPI document shows the schemas)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any, TypeVar, cast

from fastapi import APIRouter, Request, params

from greenfleet.errors import ValidationError
from greenfleet.operations import by_name
from greenfleet.services import Services

Doc = dict[str, Any]
"""A request or response in the operation's shape (SageMaker's or CloudWatch's members)."""
F = TypeVar("F", bound=Callable[..., Any])
BODY_MARK = "x-greenfleet-body"
"""Marks, in the OpenAPI document, a route that reads a JSON body: required or optional."""


def route(router: APIRouter, name: str, which: int = 0) -> Callable[[F], F]:
    """Register the decorated handler as route ``which`` of operation ``name`` (greenfleet.operations).
    Whether it reads a JSON body (``Depends(json_body)``) is noted for the OpenAPI document."""
    op = by_name(name)
    declared = op.routes[which]

    def register(handler: F) -> F:
        extra = {BODY_MARK: kind} if (kind := _body_kind(handler)) else None
        return router.api_route(declared.path, methods=[declared.method], status_code=declared.status,
                                summary=op.summary or op.name, operation_id=op.name if which == 0 else
                                f"{op.name}_{which}", response_model=None, tags=[op.wire or "greenfleet"],
                                openapi_extra=extra)(handler)

    return register


def _body_kind(handler: Callable[..., Any]) -> str | None:
    for parameter in inspect.signature(handler).parameters.values():
        if isinstance(parameter.default, params.Depends):
            if parameter.default.dependency is json_body:
                return "required"
            if parameter.default.dependency is optional_json_body:
                return "optional"
    return None


def services(request: Request) -> Services:
    return cast(Services, request.app.state.services)


async def json_body(request: Request) -> Doc:
    """The body as a JSON object (a dependency: ``body: Doc = Depends(json_body)``)."""
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError as exc:
        raise ValidationError(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise ValidationError("The request body must be a JSON object")
    return body


async def optional_json_body(request: Request) -> Doc:
    """Like ``json_body``; an empty body is ``{}``."""
    return await json_body(request) if (await request.body()).strip() else {}


def query(request: Request) -> Doc:
    """A List* operation's members from the query string (MaxResults as a number)."""
    params: Doc = {}
    for key, value in request.query_params.items():
        params[key] = int(value) if key == "MaxResults" and value.isdigit() else value
    return params


def with_path_name(body: Doc, key: str, name: str) -> Doc:
    """``body`` with ``key`` set to the name in the path; a body naming another resource is refused."""
    given = body.get(key)
    if given is not None and given != name:
        raise ValidationError(f"{key} '{given}' in the body does not match '{name}' in the path")
    return {**body, key: name}
