"""The ASGI messages an inference pipeline's supervisor reads and writes (``pipeline.py``, ``chain.py``)."""

from __future__ import annotations

from greenfleet.types import Receive, Send

__all__ = ["read_body", "respond"]


async def read_body(receive: Receive) -> bytes:
    """The whole request body."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def respond(send: Send, status: int, body: bytes, content_type: bytes,
                  extra: list[tuple[bytes, bytes]] | None = None) -> None:
    """A whole response: ``body`` with its Content-Type and Content-Length, and the ``extra`` headers."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
