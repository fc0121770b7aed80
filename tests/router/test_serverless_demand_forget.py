"""A router reports each serverless variant's demand (when it was last asked, what it holds in flight) to the
control plane; once a new table no longer has the variant as serverless (its endpoint deleted, or updated to
instances) the router forgets it, unless a request for it is still in flight. A real router over loopback HTTP
to an instance that answers."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

from greenfleet.control.router_presence import router_demand
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Target
from tests.router.test_mirror import Instance, ok


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"1,2", "more_body": False}


async def invoke(router: Router, name: str) -> int:
    statuses: list[int] = []

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {"type": "http", "method": "POST", "path": f"/endpoints/{name}/invocations",
             "headers": [(b"content-type", b"text/csv")]}
    await router(scope, receive, send)
    return statuses[0]


def serverless(name: str, port: int | None) -> EndpointRoute:
    instances = (InstanceAddress(f"{name}-1", "127.0.0.1", port),) if port is not None else ()
    return EndpointRoute(name, (Target("v", "cfg", 1.0, "RANDOM", instances, max_concurrency=2),))


def test_a_deleted_or_no_longer_serverless_variant_is_forgotten_once_nothing_is_in_flight() -> None:
    async def run() -> list[set[tuple[str, str]]]:
        loop = asyncio.get_running_loop()
        instance = await loop.create_server(lambda: Instance([], lambda n: ok(b"0.5")), "127.0.0.1", 0)
        port = instance.sockets[0].getsockname()[1]
        router = Router("123456789012", 1024 * 1024, 5.0, clock=lambda: 1000.0)
        router.cold_start_timeout_s = 0.5
        router.publish(RoutingTable(1, {"kept": serverless("kept", port), "gone": serverless("gone", port),
                                        "cold": serverless("cold", None)}))
        reported: list[set[tuple[str, str]]] = []
        assert await invoke(router, "kept") == 200 and await invoke(router, "gone") == 200
        held = asyncio.create_task(invoke(router, "cold"))  # held through a cold start that never comes
        await asyncio.sleep(0.1)
        reported.append(set(router_demand(router)))
        # "gone" is deleted, "cold" is deleted while its request is held, "kept" stays serverless
        router.publish(RoutingTable(2, {"kept": serverless("kept", port)}))
        reported.append(set(router_demand(router)))
        assert await held == 429
        router.publish(RoutingTable(3, {"kept": serverless("kept", port)}))
        reported.append(set(router_demand(router)))
        # "kept" updated to an instance-based variant
        router.publish(RoutingTable(4, {"kept": EndpointRoute("kept", (Target(
            "v", "cfg2", 1.0, "RANDOM", (InstanceAddress("kept-2", "127.0.0.1", port),)),))}))
        reported.append(set(router_demand(router)))
        await router.upstream.close()
        instance.close()
        await instance.wait_closed()
        return reported

    reported = asyncio.run(run())
    assert reported == [{("kept", "v"), ("gone", "v"), ("cold", "v")}, {("kept", "v"), ("cold", "v")},
                        {("kept", "v")}, set()]
