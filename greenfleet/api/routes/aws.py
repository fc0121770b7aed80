"""AWS's protocols on ``POST /``, so boto3 and the AWS CLI work unchanged against the base URL.

SageMaker speaks AWS JSON 1.1 (``X-Amz-Target: SageMaker.<Operation>``). Each operation maps onto
the same service method the native REST API calls. CloudWatch speaks AWS JSON 1.0
(``X-Amz-Target: GraniteServiceVersion20100801.<Operation>``, botocore ≥ 1.42.7) and the query protocol
(form-encoded ``Action=...``, older SDKs); both are in ``greenfleet.api.aws``.

Before any operation runs, every request on ``POST /`` is checked the same way: the body is read with a
cap, its SigV4 signature is verified when access keys are configured, and a gzip body is inflated with
a cap; a failure is answered in the protocol's own error form."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from greenfleet.api import jsonbody
from greenfleet.api.aws import cloudwatch_json, cloudwatch_query
from greenfleet.api.aws.body import BodyError, inflate, read_capped
from greenfleet.auth.policy import AccessPolicy
from greenfleet.auth.sigv4 import AuthFailure
from greenfleet.errors import GreenfleetError, ValidationError
from greenfleet.operations import autoscaling_targets, sagemaker_targets
from greenfleet.registry.caller import CALLER, from_authorization
from greenfleet.services import Services

router = APIRouter()
Doc = dict[str, Any]

SAGEMAKER_OPERATIONS: dict[str, tuple[str, str]] = sagemaker_targets()
"""Wire name → (``Services`` attribute, method), from greenfleet.operations."""
AUTOSCALING_OPERATIONS: dict[str, tuple[str, str]] = autoscaling_targets()
"""Application Auto Scaling's (``AnyScaleFrontendService.<Operation>``), likewise."""


def _json(status: int, payload: Doc, content_type: str, error_code: str | None = None) -> Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error_code:
        headers["x-amzn-ErrorType"] = error_code
    return Response(jsonbody.dumps(payload), status_code=status, media_type=content_type, headers=headers)


def _call(services: Services, target: tuple[str, str], params: Doc) -> Doc:
    service = getattr(services, target[0])
    if service is None:
        raise ValidationError(f"{target[0]} is not enabled on this server")
    method: Callable[[Doc], Doc] = getattr(service, target[1])
    return method(params)


def _json11(services: Services, prefix: str, table: dict[str, tuple[str, str]], message_key: str,
            operation: str, body: bytes) -> Response:
    content_type = "application/x-amz-json-1.1"
    target = table.get(operation)
    if target is None:
        return _json(400, {"__type": "UnknownOperationException",
                           message_key: f"{prefix}.{operation} is not supported by greenfleet"},
                     content_type, "UnknownOperationException")
    try:
        params = jsonbody.parse(body or b"{}")
        if not isinstance(params, dict):
            raise ValidationError("The request body must be a JSON object")
        return _json(200, _call(services, target, params), content_type)
    except GreenfleetError as exc:
        error: GreenfleetError = exc
    except (ValueError, TypeError, KeyError, RecursionError) as exc:  # a shape the validators did not foresee
        error = ValidationError(f"Invalid request: {type(exc).__name__}: {exc}")
    return _json(error.status_code, {"__type": error.code, message_key: error.message}, content_type, error.code)


def sagemaker(services: Services, operation: str, body: bytes) -> Response:
    return _json11(services, "SageMaker", SAGEMAKER_OPERATIONS, "message", operation, body)


def autoscaling(services: Services, operation: str, body: bytes) -> Response:
    """Application Auto Scaling: its errors carry ``Message``."""
    return _json11(services, AUTOSCALING_PREFIX, AUTOSCALING_OPERATIONS, "Message", operation, body)


def autoscaling_fail(status: int, code: str, message: str) -> Response:
    return _json(status, {"__type": code, "Message": message}, "application/x-amz-json-1.1", code)


def sagemaker_fail(status: int, code: str, message: str) -> Response:
    return _json(status, {"__type": code, "message": message}, "application/x-amz-json-1.1", code)


@dataclass(frozen=True, slots=True)
class Protocol:
    """One protocol on ``POST /``: ``handle(services, operation, body)`` answers an operation;
    ``fail(status, code, message)`` answers in the protocol's error form before one runs (body, auth);
    ``query_codes``: the service is query-compatible (CloudWatch), so auth errors use the query codes."""

    handle: Callable[[Services, str, bytes], Response]
    fail: Callable[[int, str, str], Response]
    query_codes: bool = False
    services: tuple[str, ...] = ("sagemaker",)
    """SigV4 signing names the protocol's requests must be scoped to."""


AUTOSCALING_PREFIX = "AnyScaleFrontendService"
# Protocols by X-Amz-Target prefix; a form body without X-Amz-Target is the query protocol (CloudWatch).
TARGETS: dict[str, Protocol] = {
    "SageMaker": Protocol(sagemaker, sagemaker_fail),
    AUTOSCALING_PREFIX: Protocol(autoscaling, autoscaling_fail, services=("application-autoscaling",)),
    cloudwatch_json.TARGET_PREFIX: Protocol(cloudwatch_json.handle, cloudwatch_json.fail, query_codes=True,
                                            services=("monitoring",)),
}
QUERY = Protocol(cloudwatch_query.handle, cloudwatch_query.fail, query_codes=True, services=("monitoring",))
FORM = "application/x-www-form-urlencoded"


def _protocol(request: Request) -> tuple[Protocol | None, str]:
    target = request.headers.get("x-amz-target")
    if target is None:
        form = request.headers.get("content-type", "").split(";")[0].strip().lower() == FORM
        return (QUERY if form else None), ""
    prefix, _, operation = target.partition(".")
    return TARGETS.get(prefix), operation


def _auth_failure(request: Request, body: bytes, services: tuple[str, ...]) -> AuthFailure | None:
    """The server's access policy: SigV4 for ``services`` in the server's region, or its bearer token."""
    settings = request.app.state.services.settings
    policy = AccessPolicy(settings.aws_credentials, settings.api_token, settings.region, settings.sigv4_max_skew_s)
    return policy.check(request.method, (request.scope.get("raw_path") or request.url.path.encode()).decode("latin-1"),
                        request.scope.get("query_string", b"").decode("latin-1"),
                        [(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw], body,
                        time.time(), services)


@router.post("/", include_in_schema=False)
async def aws_post(request: Request) -> Response:
    protocol, operation = _protocol(request)
    if protocol is None:
        target = request.headers.get("x-amz-target", "")
        return _json(400, {"__type": "UnknownOperationException",
                           "message": f"Unknown target '{target}': send X-Amz-Target or a form-encoded Action"},
                     "application/x-amz-json-1.1", "UnknownOperationException")
    limit = request.app.state.services.settings.max_aws_body_bytes
    try:
        raw = await read_capped(request.stream(), limit, request.headers.get("content-length"))
        failure = _auth_failure(request, raw, protocol.services)
        if failure is not None:
            return protocol.fail(failure.status, failure.code(protocol.query_codes), failure.message)
        body = inflate(raw, request.headers.get("content-encoding"), limit)
    except BodyError as exc:
        return protocol.fail(exc.status, exc.code, exc.message)
    CALLER.set(from_authorization(request.headers.get("authorization")))  # who, for the registry's audit trail
    return await run_in_threadpool(protocol.handle, request.app.state.services, operation, body)


@router.post("/endpoints/{name}/invocations-response-stream", include_in_schema=False)
async def not_yet(request: Request, name: str) -> Response:
    """InvokeEndpointWithResponseStream: a clear error until it exists."""
    failure = _auth_failure(request, await request.body(), ("sagemaker",))
    if failure is not None:
        return _json(failure.status, {"message": failure.message}, "application/json", failure.code())
    message = ("InvokeEndpointWithResponseStream is not supported by greenfleet yet; use InvokeEndpoint "
               f"(endpoint {name}).")
    return _json(400, {"message": message, "Message": message}, "application/json", "ValidationError")
