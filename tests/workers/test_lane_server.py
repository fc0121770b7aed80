"""A member's lane server in-process, on a real Unix socket: it answers as the member's HTTP app does (the same
statuses and messages for the same requests), on its own thread, and the supervisor's client reads it."""

from __future__ import annotations

import asyncio
import socket
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from greenfleet.workers.lane import AnswerReader, LaneAnswer, LaneRequest, encode_request
from greenfleet.workers.lane_client import Lane, LaneUnavailable
from greenfleet.workers.lane_server import LaneServer
from greenfleet.workers.server import InvocationApp
from greenfleet.workers.watchdog import Heartbeat
from tests.workers.test_server import FakeRuntime, exchange

pytestmark = pytest.mark.slow


class DeepRuntime(FakeRuntime):
    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if body == b"deep":
            raise RecursionError("maximum recursion depth exceeded")
        return super().invoke(body, content_type, accept)


@pytest.fixture
def served() -> Iterator[tuple[InvocationApp, Path]]:
    app = InvocationApp(DeepRuntime(), Heartbeat(), inline_max_bytes=0,
                        executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="model"),
                        default_accept="text/csv", max_body_bytes=20)
    with tempfile.TemporaryDirectory() as directory:  # short: a socket's path is at most 107 bytes
        server = LaneServer(Path(directory) / "lane.sock", app.invocations)
        server.start()
        try:
            yield app, server.path
        finally:
            server.close()


def call(path: Path, request: LaneRequest) -> LaneAnswer:
    with socket.socket(socket.AF_UNIX) as connection:
        connection.connect(str(path))
        connection.sendall(encode_request(request))
        reader = AnswerReader()
        while True:
            answers = reader.feed(connection.recv(65536))
            if answers:
                return answers[0]


@pytest.mark.parametrize(("body", "content_type", "accept"), [
    (b"abc", "text/csv", ""),  # SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT stands for a missing Accept
    (b"abc", "text/csv", "*/*"),
    (b"abc", "text/csv", "application/json"),
    (b"bad", "", ""),
    (b"boom", "", ""),
    (b"x", "image/png", ""),
    (b"deep", "", ""),
    (b"x" * 21, "application/json", ""),  # over GREENFLEET_WORKER_MAX_BODY_BYTES
])
def test_the_lane_answers_as_the_http_app_does(served: tuple[InvocationApp, Path], body: bytes, content_type: str,
                                               accept: str) -> None:
    app, path = served
    headers = {"Content-Type": content_type} if content_type else {}
    if accept:
        headers["Accept"] = accept
    over_http = exchange(app, "POST", "/invocations", content=body, headers=headers)
    over_lane = call(path, LaneRequest(content_type, accept, "", "", body))
    assert (over_lane.status, over_lane.body, over_lane.content_type) == (
        over_http.status_code, over_http.content, over_http.headers["content-type"])


def test_the_call_runs_on_the_lanes_own_thread(served: tuple[InvocationApp, Path]) -> None:
    app, path = served
    assert call(path, LaneRequest("", "", "", "", b"abc")).status == 200
    assert isinstance(app.invocations.runtime, FakeRuntime)
    assert app.invocations.runtime.threads[-1].startswith("lane-")


def test_the_client_pools_one_connection_per_call_in_flight(served: tuple[InvocationApp, Path]) -> None:
    _, path = served

    async def go() -> list[LaneAnswer]:
        lane = Lane(path, timeout_s=5)
        answers = list(await asyncio.gather(*(lane.call(LaneRequest("", "", "", "", b"a")) for _ in range(3))))
        answers.append(await lane.call(LaneRequest("", "", "", "", b"b")))
        assert lane.pooled == 3  # the three connections, reused
        lane.close()
        missing = Lane(path.with_name("none.sock"), timeout_s=5)
        with pytest.raises(LaneUnavailable):
            await missing.call(LaneRequest("", "", "", "", b"a"))
        return answers

    answers = asyncio.run(go())
    assert [a.body for a in answers] == [b"A||text/csv"] * 3 + [b"B||text/csv"]
