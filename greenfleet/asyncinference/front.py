"""InvokeEndpointAsync on the base URL, as a raw ASGI handler in front of the API application (like
InvokeEndpoint's router): no framework on a path meant to take thousands of requests a second.

sagemaker-runtime's rest-json shape: every member a header, an inline Body of at most 128,000 bytes or an
InputLocation; 202 with ``{"InferenceId"}`` and the ``X-Amzn-SageMaker-OutputLocation`` /
``-FailureLocation`` headers. An inline body for an endpoint whose config is cached is checked on the event
loop and committed by the loop's group committer (committer.py); anything else runs on a thread. Errors are
sagemaker-runtime's (``ValidationError``, 400)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from greenfleet.asyncinference.committer import LoopCommitter
from greenfleet.asyncinference.ids import new_id
from greenfleet.asyncinference.service import MAX_INLINE_BODY, AsyncInvocations
from greenfleet.auth.policy import AccessPolicy
from greenfleet.errors import GreenfleetError
from greenfleet.router.body import read_body
from greenfleet.types import Receive, Scope, Send

PATH_SUFFIX = "/async-invocations"
ClockNow = Callable[[], float]


def is_async_invocation(path: str) -> bool:
    return path.startswith("/endpoints/") and path.endswith(PATH_SUFFIX) and path.count("/") == 3


class AsyncFront:
    def __init__(self, invocations: AsyncInvocations, policy: AccessPolicy | None, clock_now: ClockNow,
                 committer: LoopCommitter | None = None) -> None:
        self.invocations = invocations
        self.committer = committer
        self.policy = policy if policy is not None and not policy.open else None
        self.now = clock_now

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        name = scope["path"].split("/")[2]
        if scope["method"] != "POST":
            await _answer(send, 405, {"message": "InvokeEndpointAsync takes POST"}, "ValidationError")
            return
        body = await read_body(scope, receive, MAX_INLINE_BODY)
        if body is None:
            await _error(send, 400, "ValidationError", f"Body: at most {MAX_INLINE_BODY} bytes may be sent inline; "
                                                       "put larger payloads at an InputLocation")
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if self.policy is not None:
            raw_path = scope.get("raw_path") or scope["path"].encode()
            failure = self.policy.check("POST", raw_path.decode("latin-1"),
                                        scope.get("query_string", b"").decode("latin-1"), list(headers.items()), body,
                                        self.now(), ("sagemaker",))
            if failure is not None:
                await _error(send, failure.status, failure.code(), failure.message)
                return
        try:
            config = self.invocations.cached_config(name) if self.committer is not None else None
            if config is not None and body:  # an inline body, a known endpoint: no I/O but the group commit
                assert self.committer is not None
                prepared = self.invocations.prepare(name, headers, body, lambda _: config)
                await self.committer.add(prepared.row)
                accepted = prepared.accepted
            else:  # a config to read or an input object to check: on a thread
                loop = asyncio.get_running_loop()
                accepted = await loop.run_in_executor(None, self.invocations.invoke_async, name, headers, body)
        except GreenfleetError as exc:
            code = "ValidationError" if exc.code == "ValidationException" else exc.code
            await _error(send, exc.status_code, code, exc.message)
            return
        await _answer(send, 202, {"InferenceId": accepted.inference_id}, None, [
            (b"x-amzn-sagemaker-outputlocation", accepted.output_location.encode()),
            (b"x-amzn-sagemaker-failurelocation", accepted.failure_location.encode())])


async def _error(send: Send, status: int, code: str, message: str) -> None:
    await _answer(send, status, {"message": message, "Message": message}, code)


async def _answer(send: Send, status: int, payload: dict[str, str], error_code: str | None,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"x-amzn-requestid", new_id().encode()), *(extra or [])]
    if error_code:
        headers.append((b"x-amzn-errortype", error_code.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

