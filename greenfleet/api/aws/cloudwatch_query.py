"""CloudWatch over the AWS query protocol, which botocore ≤ 1.42.6 (and other older SDKs) use:
``POST /`` with a form body ``Action=<Operation>&Version=2010-08-01&...``, answered in XML. The
operations, their validation and their errors are the JSON protocol's (``cloudwatch.call``)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qsl

from starlette.responses import Response

from greenfleet.api.aws import cloudwatch
from greenfleet.api.aws.querycodec import QueryDecodeError, decode, encode, encode_error
from greenfleet.resources.servicemodel import operation_model, service_model

VERSION = "2010-08-01"
CONTENT_TYPE = "text/xml"


def fail(status: int, code: str, message: str) -> Response:
    namespace = service_model(cloudwatch.SERVICE).metadata["xmlNamespace"]
    request_id = str(uuid.uuid4())
    return Response(encode_error(code, message, request_id, namespace), status_code=status,
                    media_type=CONTENT_TYPE, headers={"x-amzn-RequestId": request_id})


def handle(services: Any, _operation: str, body: bytes) -> Response:
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return fail(400, "MalformedQueryString", "The form body is not UTF-8.")
    action = next((value for key, value in pairs if key == "Action"), None)
    version = next((value for key, value in pairs if key == "Version"), VERSION)
    if not action:
        return fail(400, "MissingAction", "The request must name an Action.")
    if version != VERSION:
        return fail(400, "InvalidParameterValue", f"Version '{version}' is not supported; use {VERSION}.")
    if action not in cloudwatch.OPERATIONS:
        return fail(400, "InvalidAction", f"Could not find operation {action} for version {VERSION} "
                                          "(not supported by greenfleet).")
    model = operation_model(cloudwatch.SERVICE, action)
    try:
        params = decode(model.input_shape, [(k, v) for k, v in pairs if k not in ("Action", "Version")])
        result = cloudwatch.call(services, action, params)
    except QueryDecodeError as exc:
        return fail(400, "InvalidParameterValue", exc.message)
    except cloudwatch.CloudWatchError as exc:
        return fail(exc.status, exc.code, exc.message)
    request_id = str(uuid.uuid4())
    return Response(encode(model, result, request_id), media_type=CONTENT_TYPE,
                    headers={"x-amzn-RequestId": request_id})
