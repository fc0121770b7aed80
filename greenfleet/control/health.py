"""Concurrent GET /ping of instances (the SageMaker container health check)."""

from __future__ import annotations

import asyncio

import httpx

from greenfleet.control.instance_groups import Managed


async def ping_all(client: httpx.AsyncClient, instances: list[Managed]) -> dict[str, bool]:
    async def one(instance: Managed) -> tuple[str, bool]:
        handle = instance.handle
        try:
            response = await client.get(f"http://{handle.host}:{handle.port}/ping")
            return instance.instance_id, response.status_code == 200
        except httpx.HTTPError:
            return instance.instance_id, False

    results = await asyncio.gather(*(one(i) for i in instances))
    return dict(results)
