"""Bearer-token auth for the native REST API: with ``Settings.api_token`` set, every ``/api/*`` request
must carry ``Authorization: Bearer <token>``; others get 401 with SageMaker-style JSON. Everything else
(the AWS protocols on ``POST /``, which verify SigV4 themselves, InvokeEndpoint, /health, /docs) passes.

    app = BearerTokenAuth(app, settings.api_token)   # None or "" turns the check off
"""

from __future__ import annotations

import hmac
import json

from greenfleet.types import ASGIApp, Receive, Scope, Send

PROTECTED_PREFIX = "/api/"
CODE = "UnauthorizedException"


class BearerTokenAuth:
    def __init__(self, app: ASGIApp, token: str | None, prefix: str = PROTECTED_PREFIX) -> None:
        self.app, self.token, self.prefix = app, token or None, prefix

    def _allowed(self, scope: Scope) -> bool:
        if self.token is None or scope["type"] not in ("http", "websocket"):
            return True
        path: str = scope.get("path", "")
        if not (path.startswith(self.prefix) or path == self.prefix.rstrip("/")):
            return True
        for key, value in scope.get("headers", []):
            if key == b"authorization":
                scheme, _, given = value.decode("latin-1").partition(" ")
                return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(),
                                                                          self.token.encode())
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._allowed(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        message = "This greenfleet server requires 'Authorization: Bearer <token>' on /api/ (GREENFLEET_API_TOKEN)."
        body = json.dumps({"__type": CODE, "code": CODE, "message": message}).encode()
        await send({"type": "http.response.start", "status": 401, "headers": [
            (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="greenfleet"'), (b"x-amzn-errortype", CODE.encode())]})
        await send({"type": "http.response.body", "body": body})
