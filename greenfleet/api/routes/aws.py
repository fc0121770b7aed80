"""AWS's JSON protocols on ``POST /``, so boto3 and the AWS CLI work unchanged against the base URL.

SageMaker speaks AWS JSON 1.1 (``X-Amz-Target: SageMaker.<Operation>``). Each operation maps onto
the same service method the native REST API calls."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response

from greenfleet.errors import GreenfleetError, ValidationError

router = APIRouter()
Doc = dict[str, Any]

SAGEMAKER_OPERATIONS: dict[str, tuple[str, str]] = {
    "CreateModel": ("models", "create_model"),
    "DescribeModel": ("models", "describe_model"),
    "ListModels": ("models", "list_models"),
    "DeleteModel": ("models", "delete_model"),
    "CreateEndpointConfig": ("models", "create_endpoint_config"),
    "DescribeEndpointConfig": ("models", "describe_endpoint_config"),
    "ListEndpointConfigs": ("models", "list_endpoint_configs"),
    "DeleteEndpointConfig": ("models", "delete_endpoint_config"),
    "CreateEndpoint": ("endpoints", "create_endpoint"),
    "DescribeEndpoint": ("endpoints", "describe_endpoint"),
    "ListEndpoints": ("endpoints", "list_endpoints"),
    "DeleteEndpoint": ("endpoints", "delete_endpoint"),
    "UpdateEndpoint": ("deployments", "update_endpoint"),
    "UpdateEndpointWeightsAndCapacities": ("endpoints", "update_weights_and_capacities"),
    "AddTags": ("tags", "add_tags"),
    "ListTags": ("tags", "list_tags"),
    "DeleteTags": ("tags", "delete_tags"),
}


def _json(status: int, payload: Doc, content_type: str, error_code: str | None = None) -> Response:
    headers = {"x-amzn-RequestId": str(uuid.uuid4())}
    if error_code:
        headers["x-amzn-ErrorType"] = error_code
    return Response(json.dumps(payload), status_code=status, media_type=content_type, headers=headers)


def _call(services: Any, target: tuple[str, str], params: Doc) -> Doc:
    service = getattr(services, target[0])
    method: Callable[[Doc], Doc] | None = getattr(service, target[1], None)
    if method is None:
        raise ValidationError(f"{target[1]} is not available in this greenfleet server")
    return method(params)


def sagemaker(services: Any, operation: str, body: bytes) -> Response:
    content_type = "application/x-amz-json-1.1"
    target = SAGEMAKER_OPERATIONS.get(operation)
    if target is None:
        return _json(400, {"__type": "UnknownOperationException",
                           "message": f"SageMaker.{operation} is not supported by greenfleet"},
                     content_type, "UnknownOperationException")
    try:
        params = json.loads(body or b"{}")
        if not isinstance(params, dict):
            raise ValidationError("The request body must be a JSON object")
        return _json(200, _call(services, target, params), content_type)
    except json.JSONDecodeError as exc:
        error: GreenfleetError = ValidationError(f"Malformed JSON body: {exc}")
    except GreenfleetError as exc:
        error = exc
    return _json(error.status_code, {"__type": error.code, "message": error.message}, content_type, error.code)


# Protocol handlers by X-Amz-Target prefix; other services (CloudWatch) add theirs here.
TARGETS: dict[str, Callable[[Any, str, bytes], Response]] = {"SageMaker": sagemaker}


@router.post("/", include_in_schema=False)
async def aws_json(request: Request) -> Response:
    body = await request.body()
    target = request.headers.get("x-amz-target", "")
    prefix, _, operation = target.partition(".")
    handler = TARGETS.get(prefix)
    if handler is None:
        return _json(400, {"__type": "UnknownOperationException", "message": f"Unknown target '{target}'"},
                     "application/x-amz-json-1.1", "UnknownOperationException")
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(handler, request.app.state.services, operation, body)


@router.post("/endpoints/{name}/async-invocations", include_in_schema=False)
@router.post("/endpoints/{name}/invocations-response-stream", include_in_schema=False)
async def not_yet(request: Request, name: str) -> Response:
    """InvokeEndpointAsync and InvokeEndpointWithResponseStream: a clear error until they exist."""
    operation = "InvokeEndpointAsync" if request.url.path.endswith("async-invocations") else \
        "InvokeEndpointWithResponseStream"
    message = f"{operation} is not supported by greenfleet yet; use InvokeEndpoint (endpoint {name})."
    return _json(400, {"message": message, "Message": message}, "application/json", "ValidationError")
