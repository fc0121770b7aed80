"""The corked uvicorn protocol, through a real uvicorn server on loopback: a response's head and body
leave in one write, pipelined and streamed responses stay intact, and a closing response is flushed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from greenfleet.httpserver import uvicorn_config
from tests.conftest import free_port

BODY = b"x" * 300


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    assert scope["type"] == "http"
    while (await receive()).get("more_body", False):
        pass
    if scope["path"] == "/stream":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for part in (b"one,", b"two,", b"three"):
            await send({"type": "http.response.body", "body": part, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(BODY)).encode())]})
    await send({"type": "http.response.body", "body": BODY})


@pytest.fixture(scope="module")
def port() -> Iterator[int]:
    chosen = free_port()
    server = uvicorn.Server(uvicorn_config(app, host="127.0.0.1", port=chosen, lifespan="off",
                                           timeout_keep_alive=5, date_header=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield chosen
    server.should_exit = True
    thread.join(10)


def _read_until(sock: socket.socket, count: int) -> tuple[bytes, int]:
    """Everything the server sends until ``count`` responses' bodies are in, and how many reads it took."""
    data, reads = b"", 0
    while data.count(BODY) < count:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed after {data!r}"
        data, reads = data + chunk, reads + 1
    return data, reads


def test_head_and_body_arrive_in_one_segment(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        for _ in range(20):
            sock.sendall(b"POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nhi")
            data, reads = _read_until(sock, 1)
            assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(BODY)
            assert reads == 1, "the head and the body were sent separately"


def test_pipelined_requests_all_answered_in_order(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /a HTTP/1.1\r\nHost: t\r\n\r\n" * 5)
        data, _ = _read_until(sock, 5)
        assert data.count(b"HTTP/1.1 200 OK\r\n") == 5


def test_streamed_response_and_connection_close_are_flushed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head.lower()
    assert body == b"4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n"
