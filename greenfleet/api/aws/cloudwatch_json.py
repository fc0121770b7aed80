"""CloudWatch over AWS JSON 1.0, the protocol botocore ≥ 1.42.7 picks: ``POST /`` with
``X-Amz-Target: GraniteServiceVersion20100801.<Operation>`` and ``x-amzn-query-mode: true``.

Answers are shaped by the operation's output shape (members the model does not name are dropped,
timestamps become epoch seconds). CloudWatch is query-compatible, so an error carries the model's error
shape in ``__type`` and the query code in ``x-amzn-query-error: <Code>;Sender``, from which botocore takes
``Error.Code``."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape
from starlette.responses import Response

from greenfleet.api import jsonbody
from greenfleet.api.aws import cloudwatch
from greenfleet.errors import ValidationError
from greenfleet.metrics.timestamps import parse_time
from greenfleet.resources.servicemodel import operation_model

TARGET_PREFIX = "GraniteServiceVersion20100801"
CONTENT_TYPE = "application/x-amz-json-1.0"


def to_wire(shape: Shape | None, value: Any) -> Any:
    """``value`` as AWS JSON writes it for ``shape``: modeled members only, timestamps as epoch seconds."""
    if shape is None or value is None:
        return value
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {name: to_wire(shape.members[name], item) for name, item in value.items()
                if name in shape.members and item is not None}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [to_wire(shape.member, item) for item in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {key: to_wire(shape.value, item) for key, item in value.items()}
    if shape.type_name == "timestamp":
        return parse_time(value, shape.name)
    if shape.type_name in ("double", "float") and isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def fail(status: int, code: str, message: str) -> Response:
    body = {"__type": cloudwatch.error_shape_name(code), "message": message}
    headers = {"x-amzn-RequestId": str(uuid.uuid4()), "x-amzn-query-error": f"{code};Sender"}
    return Response(json.dumps(body), status_code=status, media_type=CONTENT_TYPE, headers=headers)


def handle(services: Any, operation: str, body: bytes) -> Response:
    if operation not in cloudwatch.OPERATIONS:
        return fail(400, "UnknownOperationException", f"{TARGET_PREFIX}.{operation} is not supported by greenfleet")
    try:
        params = jsonbody.parse(body or b"{}")
    except ValidationError as exc:
        return fail(400, "InvalidParameterValue", exc.message)
    if not isinstance(params, dict):
        return fail(400, "InvalidParameterValue", "The request body must be a JSON object")
    try:
        result = cloudwatch.call(services, operation, params)
    except cloudwatch.CloudWatchError as exc:
        return fail(exc.status, exc.code, exc.message)
    output = to_wire(operation_model(cloudwatch.SERVICE, operation).output_shape, result)
    return Response(jsonbody.dumps(output if output is not None else {}), media_type=CONTENT_TYPE,
                    headers={"x-amzn-RequestId": str(uuid.uuid4())})
