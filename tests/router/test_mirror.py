"""The router's shadow copies over loopback HTTP, sent by its mirror process: on pooled connections without a
task, answers recorded and paired, a pooled connection the instance closed retried on a fresh one, an
unanswered copy timed out; a mirror process killed is restarted, its copies counted dropped, and the caller
never sees it."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, MutableMapping
from typing import Any

import pytest

from greenfleet.router import mirror as mirror_module
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Shadow, Target
from tests.router.mirror_doubles import Invocation, Pairs, Recorded

BODY = b"1.0,2.0,3.0"
pytestmark = pytest.mark.slow  # each test starts a mirror process
MECHANICS: dict[str, Any] = {"shadow_niceness": 0, "shadow_scheduling": "nice"}
"""The mirror process at normal priority: these tests are about what it does, not when it gets the CPU (under
SCHED_IDLE, on a machine busy with other tests, it may get none for seconds)."""


class Instance(asyncio.Protocol):
    """A model instance on loopback: answers each request (``answer``: the connection's request number →
    bytes to write, or None to close without answering, or ... to stay silent)."""

    def __init__(self, log: list[bytes], answer: Callable[[int], Any]) -> None:
        self.log, self.answer, self.buffer, self.served = log, answer, b"", 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        assert self.transport is not None
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end]
            length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            if len(self.buffer) < end + 4 + length:
                return
            self.log.append(self.buffer[:end + 4 + length])
            self.buffer = self.buffer[end + 4 + length:]
            self.served += 1
            reply = self.answer(self.served)
            if reply is None:
                self.transport.close()
                return
            if reply is not ...:
                self.transport.write(reply)


def ok(text: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: %d\r\n\r\n%s" % (len(text), text)


class Undroppable(Recorded):
    """A recorder for tests in which no copy is dropped."""

    def record_mirror_dropped(self, endpoint: str, variant: str, config: str, now: float) -> None:
        raise AssertionError("no copy is dropped here")


def shadowed_router(ports: list[int], recorder: Any, timeout_s: float, *, paired: bool) -> tuple[
        Router, list[int], Callable[[], Any], Callable[[MutableMapping[str, Any]], Any]]:
    """A router serving "ep" from the instance on ``ports[0]`` and copying every request to the shadow on
    ``ports[1]``; with the statuses it answers (appended as it answers) and an ASGI receive (BODY) and send."""
    router = Router("123456789012", 1024 * 1024, timeout_s, recorder=recorder, **MECHANICS)
    prod = Target("prod", "cfg", 1.0, "LEAST_OUTSTANDING_REQUESTS", (InstanceAddress("p-1", "127.0.0.1", ports[0]),))
    copy = Target("shadow", "cfg", 1.0, "LEAST_OUTSTANDING_REQUESTS", (InstanceAddress("s-1", "127.0.0.1", ports[1]),))
    router.publish(RoutingTable(1, {"ep": EndpointRoute("ep", (prod,), (Shadow(copy, 100.0, "prod", paired=paired),))}))
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": BODY, "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    return router, statuses, receive, send


async def mirrored(requests: int, shadow_answer: Callable[[int], Any], timeout_s: float = 30.0,
                   ) -> tuple[Router, Recorded, Pairs, list[bytes], list[bytes], list[Instance]]:
    loop = asyncio.get_running_loop()
    production_log: list[bytes] = []
    shadow_log: list[bytes] = []
    shadow_connections: list[Instance] = []

    def shadow_instance() -> Instance:
        shadow_connections.append(Instance(shadow_log, shadow_answer))
        return shadow_connections[-1]

    production_connections: list[Instance] = []

    def production_instance() -> Instance:
        production_connections.append(Instance(production_log, lambda n: ok(b"prod")))
        return production_connections[-1]

    production = await loop.create_server(production_instance, "127.0.0.1", 0)
    shadow = await loop.create_server(shadow_instance, "127.0.0.1", 0)
    ports = [server.sockets[0].getsockname()[1] for server in (production, shadow)]
    recorder, pairs = Undroppable(), Pairs()
    router, statuses, receive, send = shadowed_router(ports, recorder, timeout_s, paired=True)
    router.mirror.sink = pairs
    for index in range(requests):
        scope = {"type": "http", "method": "POST", "path": "/endpoints/ep/invocations",
                 "headers": [(b"content-type", b"text/csv"), (b"x-amzn-sagemaker-inference-id", b"id-%d" % index)]}
        await router(scope, receive, send)
        for _ in range(2000):  # one copy at a time: each finds the previous one's connection idle
            if not router.mirror.in_flight:
                break
            await asyncio.sleep(0.001)
    assert statuses == [200] * requests
    await router.mirror.close()
    await router.upstream.close()  # the router's idle connections; then the instances' ends of all of them
    for instance in production_connections + shadow_connections:
        if instance.transport is not None:
            instance.transport.close()
    for server in (production, shadow):
        server.close()
        await server.wait_closed()
    await asyncio.sleep(0)
    return router, recorder, pairs, production_log, shadow_log, shadow_connections


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_copies_reuse_one_pooled_connection_and_their_answers_are_recorded_and_paired() -> None:
    router, recorder, pairs, production_log, shadow_log, connections = run(
        mirrored(20, lambda n: ok(b"shadow-%d" % n)))
    assert len(shadow_log) == 20 and len(connections) == 1  # the first copy connected, the rest reused it
    # The copy is the production request's bytes, but for the Host line.
    for sent, copied in zip(production_log, shadow_log, strict=True):
        assert sent.split(b"\r\n")[2:] == copied.split(b"\r\n")[2:] and sent != copied
    assert [i[:3] for i in recorder.invocations if i[0] == "shadow"] == [("shadow", "s-1", "ok")] * 20
    assert {a.body for a in pairs.shadows.values()} == {b"shadow-%d" % n for n in range(1, 21)}
    assert {a.content_type for a in pairs.shadows.values()} == {"text/csv"}
    assert sorted(pairs.shadows) == sorted(pairs.productions) == sorted(f"id-{i}" for i in range(20))
    assert router.mirror.sent == 20 and router.mirror.in_flight == {} and router.outstanding.counts == {}


def test_a_pooled_connection_the_instance_closed_is_retried_on_a_fresh_one() -> None:
    # Each connection answers its first request and closes on the second without answering: every copy
    # after the first is written on a pooled connection that fails before any byte of an answer.
    router, recorder, pairs, _, shadow_log, connections = run(
        mirrored(5, lambda n: ok(b"s") if n == 1 else None))
    assert [i[2] for i in recorder.invocations if i[0] == "shadow"] == ["ok"] * 5
    assert len(pairs.shadows) == 5 and len(connections) == 5 and len(shadow_log) == 9
    assert router.mirror.in_flight == {} and router.outstanding.counts == {}


def test_an_unanswered_copy_times_out_and_frees_its_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mirror_module, "SWEEP_S", 0.05)

    async def scenario() -> tuple[Router, Recorded, Pairs]:
        # The first copy (a fresh connection, through a task) is answered; the second rides the pooled
        # connection and is never answered: the sweep ends it after the invocation timeout (0.2 s).
        router, recorder, pairs, *_ = await mirrored(2, lambda n: ok(b"s") if n == 1 else ..., timeout_s=0.2)
        return router, recorder, pairs

    router, recorder, pairs = run(scenario())
    assert [i[2] for i in recorder.invocations if i[0] == "shadow"] == ["ok", "model_error_5xx"]
    assert pairs.shadows["id-1"].status == 504 and pairs.shadows["id-0"].status == 200
    assert router.mirror.in_flight == {} and router.outstanding.counts == {}


def test_a_killed_mirror_process_is_restarted_its_copies_counted_dropped_and_the_caller_never_sees_it() -> None:
    async def scenario() -> tuple[list[int], list[Invocation], list[str], int, int, int, int]:
        loop = asyncio.get_running_loop()
        log: list[bytes] = []
        connections: list[Instance] = []

        def instance(answer: Callable[[int], Any]) -> Instance:
            connections.append(Instance(log, answer))
            return connections[-1]

        # The shadow answers its first 3 copies and holds the 4th: that one is in flight when the process dies.
        held = {"n": 0}

        def shadow_answer(n: int) -> Any:
            held["n"] += 1
            return ... if held["n"] == 4 else ok(b"s")

        production = await loop.create_server(lambda: instance(lambda n: ok(b"p")), "127.0.0.1", 0)
        shadow = await loop.create_server(lambda: instance(shadow_answer), "127.0.0.1", 0)
        ports = [server.sockets[0].getsockname()[1] for server in (production, shadow)]
        recorder = Recorded()
        router, statuses, receive, send = shadowed_router(ports, recorder, 30.0, paired=False)

        async def invoke(count: int, left: int = 0) -> None:
            for _ in range(count):  # each copy answered (or ``left`` held) before the next request
                await router(scope, receive, send)
                for _ in range(2000):
                    if sum(router.mirror.in_flight.values()) <= left:
                        break
                    await asyncio.sleep(0.001)

        scope = {"type": "http", "method": "POST", "path": "/endpoints/ep/invocations",
                 "headers": [(b"content-type", b"text/csv")]}
        await invoke(3)
        await invoke(1, left=1)
        for _ in range(2000):  # held at the shadow
            if held["n"] == 4:
                break
            await asyncio.sleep(0.001)
        first = router.mirror.link.pid
        assert first is not None and router.mirror.in_flight == {"ep": 1}
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while router.mirror.link.pid is not None and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        await invoke(2)  # within the restart's back-off: dropped, not queued
        await asyncio.sleep(0.6)
        await invoke(3)  # a new mirror process takes them
        second = router.mirror.link.pid
        assert second is not None and second != first
        restarts = router.mirror.link.restarts
        await router.mirror.close()
        await router.upstream.close()
        for connection in connections:
            if connection.transport is not None:
                connection.transport.close()
        for server in (production, shadow):
            server.close()
            await server.wait_closed()
        return (statuses, recorder.invocations, recorder.dropped, restarts, router.mirror.sent,
                router.mirror.dropped, len(router.outstanding.counts))

    statuses, invocations, dropped, restarts, sent, dropped_count, outstanding = run(scenario())
    assert statuses == [200] * 9  # the caller never saw the mirror process die
    assert [i[2] for i in invocations if i[0] == "shadow"] == ["ok"] * 6
    assert dropped == ["shadow"] * 3 and dropped_count == 3  # the one in flight, and the 2 during back-off
    assert restarts == 1 and sent == 7 and outstanding == 0
