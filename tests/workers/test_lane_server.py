"""A member's lane server in-process, on a real Unix socket: it answers as the member's HTTP app does (the same
statuses and messages for the same requests), on its own thread, and the supervisor's client reads it."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from greenfleet.workers import lane_client
from greenfleet.workers.lane import AnswerReader, LaneAnswer, LaneRequest, encode_request
from greenfleet.workers.lane_client import Lane, LaneUnavailable
from greenfleet.workers.lane_server import LaneServer
from greenfleet.workers.server import InvocationApp
from greenfleet.workers.watchdog import Heartbeat
from tests.workers.test_server import FakeRuntime, exchange

pytestmark = [pytest.mark.slow, pytest.mark.parallel]  # in-process sockets, nothing timed


class DeepRuntime(FakeRuntime):
    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        if body == b"deep":
            raise RecursionError("maximum recursion depth exceeded")
        if body == b"slow":
            time.sleep(0.1)
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


def test_the_supervisor_polls_only_for_a_quick_member_and_a_lone_call(served: tuple[InvocationApp, Path],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _, path = served
    polled: list[float] = []
    monkeypatch.setattr(lane_client, "_poll_briefly", lambda transport, until: polled.append(until))
    monkeypatch.setattr(lane_client._flight, "calls", 0)
    monkeypatch.setattr(lane_client, "SPIN_S", 0.05)  # quick answers are well within it even on a loaded machine

    async def go() -> None:
        quick, slow = Lane(path, timeout_s=5), Lane(path, timeout_s=5)
        await quick.call(LaneRequest("", "", "", "", b"a"))
        assert polled == []  # nothing known of the member yet
        for _ in range(3):
            await quick.call(LaneRequest("", "", "", "", b"a"))
        assert len(polled) >= 2 and quick.typical_s < lane_client.SPIN_S
        busy = Lane(path, timeout_s=5)
        await busy.call(LaneRequest("", "", "", "", b"a"))  # pools a connection: its next call is sent at once
        pending = busy.call(LaneRequest("", "", "", "", b"slow"))
        before = len(polled)
        await quick.call(LaneRequest("", "", "", "", b"a"))
        assert len(polled) == before  # another call is in flight: the event loop is not held for this one
        await pending
        for _ in range(3):
            await slow.call(LaneRequest("", "", "", "", b"slow"))
        assert slow.typical_s > lane_client.SPIN_S
        before = len(polled)
        await slow.call(LaneRequest("", "", "", "", b"slow"))
        assert len(polled) == before  # a member slower than the polling limit is not polled for
        assert lane_client._flight.calls == 0
        timing_out = Lane(path, timeout_s=0.01)
        with pytest.raises(lane_client.LaneTimeout):
            await timing_out.call(LaneRequest("", "", "", "", b"slow"))
        assert lane_client._flight.calls == 0  # a call that failed is not counted in flight any more
        for lane in (quick, slow, busy, timing_out):
            lane.close()

    asyncio.run(go())


def test_polling_ends_as_soon_as_the_answer_is_there() -> None:
    class Transport:
        def __init__(self, sock: socket.socket) -> None:
            self.sock = sock

        def get_extra_info(self, name: str) -> socket.socket:
            return self.sock

    ours, theirs = socket.socketpair()
    with ours, theirs:
        theirs.send(b"x")
        started = time.monotonic()
        lane_client._poll_briefly(Transport(ours), time.perf_counter() + 30)  # type: ignore[arg-type]
        assert time.monotonic() - started < 10  # not polled to its 30 s limit: the byte was there
        assert ours.recv(1) == b"x"  # left for the event loop to read
