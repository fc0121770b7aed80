"""One base URL: InvokeEndpoint goes straight to the data plane, InvokeEndpointAsync to the asynchronous
inference front; everything else to the API."""

from __future__ import annotations

from greenfleet.asyncinference.front import is_async_invocation
from greenfleet.router.proxy import Router
from greenfleet.types import ASGIApp, Receive, Scope, Send


class Gateway:
    def __init__(self, router: Router, api: ASGIApp, async_front: ASGIApp | None = None) -> None:
        self.router, self.api, self.async_front = router, api, async_front

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/endpoints/") and path.endswith("/invocations") \
                and path.count("/") == 3:
            await self.router(scope, receive, send)
        elif self.async_front is not None and scope["type"] == "http" and is_async_invocation(path):
            await self.async_front(scope, receive, send)
        else:
            await self.api(scope, receive, send)
