"""The dispatcher on a real store (SQLite and PostgreSQL) and real files, its clock stepped by hand: TTL expiry,
recovery after a crash, and the backlog figures. No instance is needed for these paths."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, delete, insert, select

from greenfleet.asyncinference.dispatcher import AsyncDispatcher
from greenfleet.asyncinference.locations import Locations
from greenfleet.asyncinference.queue import Queue
from greenfleet.asyncinference.tables import FAILED, QUEUED, SUCCEEDED, async_requests
from greenfleet.asyncinference.variant_metrics import AsyncVariantMetrics
from greenfleet.clock import FakeClock
from greenfleet.errors import ValidationError
from greenfleet.metrics import MetricService
from greenfleet.router.proxy import Router
from greenfleet.router.table import EndpointRoute, InstanceAddress, RoutingTable, Target
from greenfleet.store.database import create_store_engine, migrate
from greenfleet.store.schema import endpoints


class World:
    def __init__(self, url: str, root: Path) -> None:
        engine = create_store_engine(url)
        migrate(engine)
        self.root = root
        self.queue = Queue(engine)
        self.clock = FakeClock()
        self.router = Router("123456789012", 1 << 20, 5.0)
        self.notified: list[tuple[str, dict[str, Any]]] = []
        self.backlogs: list[list[tuple[str, int, float | None, int]]] = []
        self.locations = Locations(None, [root])
        self.dispatcher = AsyncDispatcher(self.queue, self.locations, self.router, self.clock, region="us-east-1",
                                          notify=self._notify, backlogs=lambda rows, now: self.backlogs.append(rows))

    def _notify(self, conn: Connection, topic: str, message: dict[str, Any], dedup: str, now: float,
                variant: str | None) -> None:
        self.notified.append((topic, message))

    def add(self, inference_id: str, ttl: float = 60.0) -> None:
        (self.root / "in").mkdir(exist_ok=True)
        (self.root / "in" / inference_id).write_text("1,2")
        now = self.clock.now()
        self.queue.add({
            "endpoint_name": "ep", "inference_id": inference_id,
            "input_location": (self.root / "in" / inference_id).as_uri(), "body": None,
            "content_type": "text/csv", "accept": None, "custom_attributes": None,
            "output_location": (self.root / "out" / f"{inference_id}.out").as_uri(),
            "failure_location": (self.root / "fail" / f"{inference_id}-error.out").as_uri(),
            "notification": {"ErrorTopic": "arn:aws:sns:us-east-1:123456789012:errors"},
            "invocation_timeout_s": 900.0, "created_at": now, "expires_at": now + ttl})

    def add_inline(self, inference_id: str, body: bytes, *, timeout_s: float = 900.0, ttl: float = 60.0) -> None:
        """A request with an inline Body (no input file), its output and failure under the world's root."""
        now = self.clock.now()
        self.queue.add({
            "endpoint_name": "ep", "inference_id": inference_id, "input_location": "", "body": body,
            "content_type": "text/csv", "accept": None, "custom_attributes": None,
            "output_location": (self.root / "out" / f"{inference_id}.out").as_uri(),
            "failure_location": (self.root / "fail" / f"{inference_id}-error.out").as_uri(),
            "notification": None, "invocation_timeout_s": timeout_s, "created_at": now, "expires_at": now + ttl})

    def route(self, port: int, concurrency: int = 1, strategy: str = "RANDOM") -> None:
        """"ep" served by one instance ("i-1") on ``port``."""
        self.router.publish(RoutingTable(1, {"ep": EndpointRoute("ep", (Target(
            "main", "cfg", 1.0, strategy, (InstanceAddress("i-1", "127.0.0.1", port),),
            async_concurrency=concurrency),))}))

    def settle(self) -> None:
        """Run one pass and wait for the requests it handed to the pool (a fresh pool for the next pass)."""
        self.dispatcher.dispatch(self.clock.now())
        self.dispatcher._pool.shutdown(wait=True)
        self.dispatcher._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="async")


@contextlib.contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[int]:
    """A real HTTP instance on loopback answering with ``handler``; its port."""
    instance = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=instance.serve_forever, daemon=True).start()
    try:
        yield instance.server_address[1]
    finally:
        instance.shutdown()
        instance.server_close()


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    made = World(database_url, tmp_path)
    yield made
    made.dispatcher._http.close()


def test_a_request_past_its_ttl_goes_to_the_failure_path_with_the_reason(world: World) -> None:
    world.add("late", ttl=60)
    world.add("in-time", ttl=600)
    world.clock.advance(61)
    world.settle()
    failure = world.root / "fail" / "late-error.out"
    assert failure.read_text().startswith("ExpiredRequest: the request was not processed within its "
                                          "RequestTTLSeconds (60 s)")
    assert not (world.root / "fail" / "in-time-error.out").exists()
    states = world.queue.status_of("ep", ["late", "in-time"])
    assert states["late"][0] == FAILED and "ExpiredRequest" in (states["late"][1] or "")
    assert states["in-time"][0] == QUEUED  # no instance yet: it waits
    [(topic, message)] = world.notified
    assert topic.endswith(":errors") and message["invocationStatus"] == "Failed"
    assert message["inferenceId"] == "late" and message["failureReason"].startswith("ExpiredRequest")


def test_claimed_requests_of_a_crashed_server_are_queued_again_and_finished_once(world: World) -> None:
    world.add("done-before-crash")
    world.add("never-ran")
    world.route(9, strategy="LEAST_OUTSTANDING_REQUESTS")
    # The crashed server had claimed both and written the first one's output before it died.
    assert len(world.queue.claim("ep", 2, world.clock.now())) == 2
    (world.root / "out").mkdir()
    (world.root / "out" / "done-before-crash.out").write_text("[1]")
    assert world.queue.recover() == 2
    world.dispatcher.max_in_flight = 1
    world.settle()
    states = world.queue.status_of("ep", ["done-before-crash", "never-ran"])
    assert states["done-before-crash"] == (SUCCEEDED, None)  # finished by its output: not run again
    assert states["never-ran"][0] == QUEUED
    assert world.router.outstanding.of("i-1") == 0


def test_backlog_figures_cover_every_async_endpoint(world: World) -> None:
    world.router.publish(RoutingTable(1, {"ep": EndpointRoute("ep", (Target(
        "main", "cfg", 1.0, "LEAST_OUTSTANDING_REQUESTS", (), async_concurrency=2),)),
        "sync": EndpointRoute("sync", (Target("main", "c2", 1.0, "RANDOM", ()),))}))
    world.add("a")
    world.add("b")
    world.clock.advance(5)
    world.dispatcher.dispatch(world.clock.now())
    assert world.backlogs[-1] == [("ep", 2, world.clock.now() - 5, 0)]  # no instance: backlog without capacity


def test_a_request_handed_over_at_shutdown_goes_back_to_the_queue(world: World) -> None:
    world.add("at-shutdown")
    target = Target("main", "cfg", 1.0, "RANDOM", (InstanceAddress("i-1", "127.0.0.1", 9),), async_concurrency=1)
    [request] = world.queue.claim("ep", 1, world.clock.now())
    world.router.outstanding.acquire("i-1")
    world.dispatcher._in_flight["ep"] = 1
    world.dispatcher._stop.set()
    world.dispatcher._process(request, target, target.instances[0])
    assert world.queue.status_of("ep", ["at-shutdown"])["at-shutdown"][0] == QUEUED
    assert world.router.outstanding.of("i-1") == 0 and world.dispatcher._in_flight["ep"] == 0
    assert not (world.root / "fail").exists()


def test_per_variant_counts_and_times_are_published_under_endpoint_and_variant(database_url: str,
                                                                               tmp_path: Path) -> None:
    world = World(database_url, tmp_path)
    metrics = MetricService(world.queue.engine, world.clock)
    world.dispatcher.variant_metrics = AsyncVariantMetrics(metrics.store)
    try:
        world.router.publish(RoutingTable(1, {"ep": EndpointRoute("ep", (Target(
            "blue", "cfg", 1.0, "RANDOM", (InstanceAddress("i-1", "127.0.0.1", 9),), async_concurrency=1),))}))
        start = world.clock.now()
        world.add("late", ttl=60)
        world.clock.advance(61)
        world.add("unreadable")
        (world.root / "in" / "unreadable").unlink()  # gone before it runs: a download failure
        world.clock.advance(2)
        world.settle()
        world.clock.advance(2)
        world.dispatcher.variant_metrics.flush(world.clock.now())
        metrics.flush(world.clock.now())

        def stat(name: str, statistic: str) -> float:
            points = metrics.get_metric_statistics({
                "Namespace": "AWS/SageMaker", "MetricName": name, "Period": 60, "Statistics": [statistic],
                "Dimensions": [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "blue"}],
                "StartTime": start - 60, "EndTime": world.clock.now() + 60})["Datapoints"]
            return float(sum(p[statistic] for p in points))

        assert stat("ExpiredRequests", "Sum") == 1
        assert stat("RequestDownloadFailures", "Sum") == 1
        assert stat("InvocationsProcesssed", "Sum") == 0
        assert stat("TimeInBacklog", "SampleCount") == 1  # only the unreadable one reached an instance
        assert stat("TimeInBacklog", "Maximum") == pytest.approx(2000.0, rel=0.02)  # 2 s queued, in ms
        assert stat("TotalProcessingTime", "SampleCount") == 2
        assert stat("TotalProcessingTime", "Maximum") == pytest.approx(63_000.0, rel=0.02)  # the expired one
    finally:
        world.dispatcher._http.close()


class _LengthOnly(http.server.BaseHTTPRequestHandler):
    """An instance that reads a request body by its Content-Length only (as a plain ``http.server`` does): a
    chunked body reaches it empty."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str | None, str | None, bytes]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = self.headers.get("Content-Length")
        body = self.rfile.read(int(length)) if length is not None else b""
        type(self).seen.append((length, self.headers.get("Transfer-Encoding"), body))
        answer = b"got " + body
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def test_the_input_reaches_the_instance_with_its_content_length(world: World) -> None:
    """A container that does not read chunked bodies (the SageMaker contract gives the body's length) gets the
    whole input, inline or from a file, still streamed."""
    _LengthOnly.seen = []
    with serving(_LengthOnly) as port:
        world.route(port, concurrency=2)
        world.add("from-file")  # its input file holds "1,2"
        world.add_inline("inline", b"3,4,5")
        world.settle()
        assert sorted(_LengthOnly.seen) == [("3", None, b"1,2"), ("5", None, b"3,4,5")]
        assert (world.root / "out" / "from-file.out").read_bytes() == b"got 1,2"
        assert (world.root / "out" / "inline.out").read_bytes() == b"got 3,4,5"


class _Busy(http.server.BaseHTTPRequestHandler):
    """An instance that takes 0.3 s per call and records the most calls it had at once."""

    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    running: dict[int, int] = {}
    most: dict[int, int] = {}

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        port = int(self.server.server_address[1])  # type: ignore[index]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.lock:
            self.running[port] = self.running.get(port, 0) + 1
            self.most[port] = max(self.most.get(port, 0), self.running[port])
        time.sleep(0.3)
        with self.lock:
            self.running[port] -= 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")


def test_no_instance_gets_more_than_its_max_concurrent_invocations(world: World) -> None:
    """MaxConcurrentInvocationsPerInstance holds per instance, whatever the variants' weights or routing
    strategy: the endpoint's spare capacity is placed on the instances that have room."""
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Busy) for _ in range(3)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    ports = [s.server_address[1] for s in servers]
    try:
        heavy = Target("heavy", "cfg", 1.0, "RANDOM", (InstanceAddress("i-1", "127.0.0.1", ports[0]),
                                                      InstanceAddress("i-2", "127.0.0.1", ports[1])),
                       async_concurrency=1)
        light = Target("light", "cfg", 0.001, "RANDOM", (InstanceAddress("i-3", "127.0.0.1", ports[2]),),
                       async_concurrency=1)
        world.router.publish(RoutingTable(1, {"ep": EndpointRoute("ep", (heavy, light))}))
        for index in range(3):
            world.add(f"r{index}")
        world.settle()
        assert {port: _Busy.most.get(port) for port in ports} == {port: 1 for port in ports}
        assert world.queue.status_of("ep", ["r0", "r1", "r2"]) == {f"r{i}": (SUCCEEDED, None) for i in range(3)}
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def test_a_finished_requests_inline_body_leaves_the_store(world: World) -> None:
    """An inline Body (up to 128,000 bytes) is kept only until its request ends (its output or failure is
    written): the row stays (its InferenceId stays taken, its status readable), the payload goes."""
    with serving(_LengthOnly) as port:
        world.route(port, concurrency=2)
        for inference_id, ttl in (("served", 600.0), ("expired", 60.0)):
            world.add_inline(inference_id, b"9" * 100_000, ttl=ttl)
        world.clock.advance(61)
        world.settle()
        assert (world.root / "out" / "served.out").read_bytes() == b"got " + b"9" * 100_000
        assert (world.root / "fail" / "expired-error.out").exists()
        with world.queue.engine.connect() as conn:
            rows = conn.execute(select(async_requests.c.inference_id, async_requests.c.status,
                                       async_requests.c.body)).all()
        assert sorted(rows) == [("expired", FAILED, None), ("served", SUCCEEDED, None)]


def test_an_instance_that_refuses_connections_is_not_retried_at_once(world: World) -> None:
    """A request whose instance refuses the connection (it died; the routing table still lists it until its
    health checks fail) goes back to the queue, and that instance is left alone for a second: the request is
    not claimed and requeued again and again in a busy loop on the store."""
    world.route(9)  # nothing listens there: refused
    world.add("patient")

    def attempts() -> tuple[str, int]:
        with world.queue.engine.connect() as conn:
            row = conn.execute(select(async_requests.c.status, async_requests.c.attempts)).one()
        return str(row[0]), int(row[1])

    world.dispatcher.poll_interval_s = 0.05
    world.dispatcher.start()
    try:
        time.sleep(0.5)
        assert attempts() == (QUEUED, 1)
        world.clock.advance(1.5)  # the instance's second is over: tried once more
        time.sleep(0.5)
        assert attempts() == (QUEUED, 2)
    finally:
        world.dispatcher.stop(1)


def test_finished_records_go_after_the_retention_or_with_their_endpoint(world: World) -> None:
    """A finished request's record (its InferenceId taken) is deleted once it is ``retention_s`` past its end,
    or once its endpoint no longer exists; unfinished requests stay either way."""
    def ids() -> set[str]:
        return set(world.queue.status_of("ep", ["old", "queued", "later"]))

    with world.queue.engine.begin() as tx:
        tx.execute(insert(endpoints).values(name="ep", arn="arn", config_name="c", status="InService",
                                            created_at=0.0, modified_at=0.0,
                                            state={"fleets": [], "current_fleet_id": 0}, revision=1))
    world.dispatcher.retention_s = 3600.0
    world.add("old", ttl=60)
    world.add("queued", ttl=20000)
    world.clock.advance(61)
    world.settle()  # "old" expires (finished, failed) at 61; "queued" has no instance to run on
    with pytest.raises(ValidationError, match="already in use"):
        world.add("old")
    world.clock.advance(3599)
    world.settle()
    assert ids() == {"old", "queued"}  # within the retention (an hour less a second past its end)
    world.clock.advance(61)  # the next prune, a minute later
    world.settle()
    assert ids() == {"queued"}
    world.add("old", ttl=60)  # its InferenceId may be used again
    world.add("later", ttl=60)
    world.clock.advance(61)
    world.settle()  # both expire: finished, within the retention
    assert ids() == {"old", "queued", "later"}
    with world.queue.engine.begin() as tx:
        tx.execute(delete(endpoints).where(endpoints.c.name == "ep"))
    world.clock.advance(60)
    world.settle()
    assert ids() == {"queued"}  # the deleted endpoint's finished records went; the unfinished one stays


class _Trickle(http.server.BaseHTTPRequestHandler):
    """An instance whose answer comes a few bytes at a time, 0.1 s apart, for 3 s."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "30")
        self.end_headers()
        try:
            for _ in range(30):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:  # the dispatcher gave up
            pass


def _cut_off(world: World, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
    """A request with a 1 s InvocationTimeoutSeconds to an instance whose answer would take 3 s: it fails as
    InvocationTimeout near the limit."""
    with serving(handler) as port:
        world.route(port)
        world.add_inline("slow", b"1", timeout_s=1.0)
        started = time.monotonic()
        world.settle()
        assert time.monotonic() - started < 2.5  # the answer would have taken 3 s
        assert (world.root / "fail" / "slow-error.out").read_text().startswith(
            "InvocationTimeout: the model did not answer within 1 seconds")


def test_an_answer_still_coming_at_the_invocation_timeout_is_cut_off(world: World) -> None:
    """InvocationTimeoutSeconds bounds the whole call: an answer that keeps coming a byte at a time (each read
    within the client's read timeout) fails as InvocationTimeout near the limit, and no output is written."""
    _cut_off(world, _Trickle)
    assert not (world.root / "out" / "slow.out").exists()


def test_a_request_claimed_as_its_instance_refuses_another_goes_back_to_the_queue(world: World) -> None:
    """The pass counts an instance's room, claims that many requests, then places them: a request on that
    instance refused meanwhile (a pool thread) leaves the instance no room. The claimed request goes back to
    the queue; it is not left running with no thread on it (until the next restart) by a failed pass."""
    world.route(9, concurrency=2)  # nothing listens there: refused
    go = threading.Event()
    reader = world.locations.reader

    def held_reader(url: str) -> Any:  # "first" reaches its instance only when the next pass has claimed
        if url.endswith("/first"):
            go.wait(5)
        return reader(url)

    world.locations.reader = held_reader  # type: ignore[method-assign]
    world.add("first")
    world.dispatcher.dispatch(world.clock.now())  # "first" is placed on i-1 (room for one more)
    world.add("second")
    claim = world.queue.claim

    def claim_then_refused(name: str, limit: int, now: float) -> list[Any]:
        claimed = claim(name, limit, now)
        go.set()  # the pool thread sends "first": refused, i-1 is left alone for a second
        deadline = time.monotonic() + 5
        while "i-1" not in world.dispatcher._refused_until and time.monotonic() < deadline:
            time.sleep(0.01)
        return claimed

    world.queue.claim = claim_then_refused  # type: ignore[method-assign, assignment]
    world.dispatcher.dispatch(world.clock.now())
    world.dispatcher._pool.shutdown(wait=True)
    with world.queue.engine.connect() as conn:
        rows = conn.execute(select(async_requests.c.inference_id, async_requests.c.status)).all()
    assert sorted(rows) == [("first", QUEUED), ("second", QUEUED)]


def test_finished_records_of_an_endpoint_deleted_and_created_again_go_at_the_next_prune(world: World) -> None:
    """An endpoint deleted and created again before the once-a-minute prune (a script recreating it at once):
    the finished records of its earlier life go at the next prune, their InferenceIds free again, as when the
    prune saw it gone; the new endpoint's records and unfinished ones stay."""
    def create(at: float) -> None:
        with world.queue.engine.begin() as tx:
            tx.execute(delete(endpoints).where(endpoints.c.name == "ep"))
            tx.execute(insert(endpoints).values(name="ep", arn="arn", config_name="c", status="InService",
                                                created_at=at, modified_at=at,
                                                state={"fleets": [], "current_fleet_id": 0}, revision=1))

    create(world.clock.now())
    world.add("before", ttl=60)
    world.add("queued", ttl=20000)
    world.clock.advance(61)
    world.settle()  # "before" expires (finished); "queued" has no instance to run on
    create(world.clock.now() + 1)  # deleted and created again within the minute
    world.clock.advance(2)
    world.add("after", ttl=60)
    world.clock.advance(61)
    world.settle()  # "after" expires; the prune, a minute after the last
    assert set(world.queue.status_of("ep", ["before", "queued", "after"])) == {"queued", "after"}
    world.add("before", ttl=60)  # its InferenceId may be used again


class _TrickledError(_Trickle):
    """An instance whose error answer (a 500) comes a byte at a time, 0.1 s apart, for 3 s."""

    def send_response(self, code: int, message: str | None = None) -> None:
        super().send_response(500, message)


def test_an_error_answer_still_coming_at_the_invocation_timeout_is_cut_off(world: World) -> None:
    """The whole call's limit holds for an error answer too (quoted in the failure): one still coming at the
    limit fails as InvocationTimeout near it, not as a ModelError once the last byte came."""
    _cut_off(world, _TrickledError)
