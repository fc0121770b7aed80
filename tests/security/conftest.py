"""Live servers with security settings, and a raw-socket client for requests httpx will not send."""

from __future__ import annotations

import socket
import time

from tests.live.conftest import features, server, sklearn_model
from tests.workers.conftest import workers

__all__ = ["features", "raw_request", "server", "sklearn_model", "workers"]


def raw_request(port: int, data: bytes, wait_s: float = 10.0) -> tuple[int, bytes, float]:
    """Send ``data`` as is, read the answer until the server closes or ``wait_s`` passes:
    (status, whole answer, seconds until the first byte came back); status 0 if nothing came."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as sock:
        sock.sendall(data)
        chunks: list[bytes] = []
        first = 0.0
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                if not chunks:
                    first = time.monotonic() - started
                chunks.append(chunk)
                if b"\r\n\r\n" in b"".join(chunks) and _complete(b"".join(chunks)):
                    break
        except TimeoutError:
            pass
    answer = b"".join(chunks)
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, answer, first


def _complete(answer: bytes) -> bool:
    head, _, body = answer.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    return False
