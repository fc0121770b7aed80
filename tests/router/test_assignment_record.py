"""Under an A/B test the router records which variant answered an inference id before the answer leaves
it, so feedback sent the moment the caller has the answer finds the id; only answered (2xx) requests of
endpoints under a test are recorded. A real router over loopback HTTP to an instance that answers."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from greenfleet.router.assignments import Assignment
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Target
from tests.router.test_mirror import Instance, ok


def failed(_: int) -> bytes:
    return b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nboom"


async def invoke_all(answer: Any, record: bool) -> tuple[list[list[Assignment]], list[Assignment], list[int]]:
    """Three invocations of "ep"; what the log held when each answer started, what it holds after, statuses."""
    loop = asyncio.get_running_loop()
    log: list[bytes] = []
    instance = await loop.create_server(lambda: Instance(log, answer), "127.0.0.1", 0)
    port = instance.sockets[0].getsockname()[1]
    router = Router("123456789012", 1024 * 1024, 5.0, clock=lambda: 1000.0)
    target = Target("b", "cfg", 1.0, "RANDOM", (InstanceAddress("b-1", "127.0.0.1", port),))
    router.publish(RoutingTable(1, {"ep": EndpointRoute("ep", (target,), record_assignments=record)}))
    seen: list[list[Assignment]] = []
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"1,2", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
            seen.append(list(router.assignments._records))  # what a feedback call now would find

    for index in range(3):
        scope = {"type": "http", "method": "POST", "path": "/endpoints/ep/invocations",
                 "headers": [(b"content-type", b"text/csv"), (b"x-amzn-sagemaker-inference-id", b"id-%d" % index)]}
        await router(scope, receive, send)
    await router.upstream.close()
    instance.close()
    await instance.wait_closed()
    return seen, router.assignments.drain(), statuses


def test_an_answer_is_recorded_before_it_is_sent() -> None:
    seen, after, statuses = asyncio.run(invoke_all(lambda n: ok(b"0.75"), record=True))
    assert statuses == [200, 200, 200]
    assert [[r.inference_id for r in held] for held in seen] == [["id-0"], ["id-0", "id-1"],
                                                                 ["id-0", "id-1", "id-2"]]
    assert after[0] == Assignment("ep", "id-0", "b", "0.75", 1000.0)


def test_failed_answers_and_endpoints_without_a_test_are_not_recorded() -> None:
    _, after, statuses = asyncio.run(invoke_all(failed, record=True))
    assert statuses == [424, 424, 424] and after == []
    _, after, statuses = asyncio.run(invoke_all(lambda n: ok(b"0.75"), record=False))
    assert statuses == [200, 200, 200] and after == []
