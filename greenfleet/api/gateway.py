"""One base URL: InvokeEndpoint goes straight to the data plane; everything else to the API."""

from __future__ import annotations

from greenfleet.router.proxy import Router
from greenfleet.types import ASGIApp, Receive, Scope, Send


class Gateway:
    def __init__(self, router: Router, api: ASGIApp) -> None:
        self.router, self.api = router, api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith("/endpoints/") and path.endswith("/invocations") \
                and path.count("/") == 3:
            await self.router(scope, receive, send)
        else:
            await self.api(scope, receive, send)
