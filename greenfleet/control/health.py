"""GET /ping of an instance (the SageMaker container health check)."""

from __future__ import annotations

import httpx

from greenfleet.instances.backend import Address


async def ping(client: httpx.AsyncClient, address: Address) -> bool:
    try:
        response = await client.get(f"http://{address.host}:{address.port}/ping")
        return response.status_code == 200
    except httpx.HTTPError:
        return False
