"""Reading an invocation's body, capped: InvokeEndpoint's (the router) and InvokeEndpointAsync's inline one."""

from __future__ import annotations

from greenfleet.types import Receive, Scope

__all__ = ["read_body"]


async def read_body(scope: Scope, receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it is (or is announced as) more than ``limit`` bytes."""
    for key, value in scope["headers"]:
        if key == b"content-length" and value.isdigit() and int(value) > limit:
            return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks) if len(chunks) != 1 else chunks[0]
