"""``greenfleet router``: the data plane as a process of its own beside the server (or on another
machine sharing its PostgreSQL store). It follows the routing table the server stores, by revision
(``control/table_sync.py``), serves invocations from it, keeps serving its last table while the server
is down (the instances are processes or actors of their own and live on), and ships its per-second
invocation metrics and an inference experiment's paired answers to the shared store once a second, and an
A/B test's records of which variant answered which inference id (for the feedback API) within 0.05 s. It serves every
feature of the table it follows (control/table_sync.py carries all of it): it mirrors to shadow variants,
captures data (with a capture-writer process of its own, as every server has), records A/B assignments,
holds requests for serverless variants and refuses real-time calls to asynchronous ones.

It never asks the store per request, never starts or stops an instance, and needs no home lock: several
routers may run beside one server. It reports to the leader through the store (control/router_presence.py):
the revision it serves, its requests on instances being drained (drains wait for them), its serverless
demand (the leader keeps warm, and starts, the serverless variants it serves: a request it holds for a cold
start starts the variant) and why its capture writer's writes to a destination fail, if they do
(DescribeEndpoint's FailureReason names this router), and once a second its closed seconds of metrics,
which the leader merges additively into the metric store."""

from __future__ import annotations

import json
import logging
import uuid

from greenfleet.api.gateway import Gateway
from greenfleet.api.guard import Guard
from greenfleet.asyncinference.front import is_async_invocation
from greenfleet.auth.policy import AccessPolicy
from greenfleet.capture.observer import CaptureObserver
from greenfleet.clock import SystemClock
from greenfleet.control.router_presence import RouterRegistry, RouterReporter
from greenfleet.control.table_sync import TableFollower
from greenfleet.dataplane import build_router
from greenfleet.experiments.pair_store import PairFlush, PairStore
from greenfleet.experiments.pairs import PairCollector
from greenfleet.feedback.assignment_flush import AssignmentFlush
from greenfleet.feedback.assignment_shipper import AssignmentShipper
from greenfleet.feedback.repository import FeedbackRepository
from greenfleet.httpserver import GracefulServer, uvicorn_config
from greenfleet.metrics.inbox import MetricOutbox
from greenfleet.metrics.points import SinkMetrics
from greenfleet.metrics.recorder import Recorder
from greenfleet.metrics.sketch import DEFAULT_ACCURACY
from greenfleet.router.proxy import Router
from greenfleet.settings import Settings
from greenfleet.store.database import HEAD_REVISION, create_store_engine, current_revision
from greenfleet.store.repository import Repository
from greenfleet.types import Receive, Scope, Send

log = logging.getLogger("greenfleet.server.router")
FOLLOW_INTERVAL_S = 0.1


class StoreNotReady(RuntimeError):
    """The store has no greenfleet schema at this version yet (start ``greenfleet server`` first)."""


class _Health:
    """Everything that is not an invocation: ``GET /health`` (with the table's revision); InvokeEndpointAsync
    refused with the reason (its durable queue is the server's); else 404."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope.get("path", "")
        headers = [(b"content-type", b"application/json")]
        if path == "/health":
            status, doc = 200, {"status": "ok", "role": "router", "routing_revision": self.router.table.revision}
        elif is_async_invocation(path):
            message = ("InvokeEndpointAsync is not served by a greenfleet router process, only InvokeEndpoint: "
                       "send asynchronous invocations to greenfleet server (it holds their durable queue).")
            status, doc = 404, {"message": message, "Message": message}
            headers.append((b"x-amzn-errortype", b"UnknownOperationException"))
        else:
            status, doc = 404, {"message": "Not Found"}
        body = json.dumps(doc).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class RouterProcess:
    def __init__(self, settings: Settings, host: str, port: int) -> None:
        self.settings, self.host, self.port = settings, host, port
        self.engine = create_store_engine(settings.resolved_database_url())
        if current_revision(self.engine) != HEAD_REVISION:
            self.engine.dispose()
            raise StoreNotReady(f"the store {settings.resolved_database_url()} is not at greenfleet's schema "
                                f"{HEAD_REVISION}: start (or upgrade) greenfleet server on it first")
        clock = SystemClock()
        self.id = f"router-{uuid.uuid4().hex[:16]}"
        self.outbox = MetricOutbox(self.engine, self.id, DEFAULT_ACCURACY)
        self.recorder = Recorder(self.outbox)
        policy = AccessPolicy(settings.aws_credentials, settings.api_token, settings.region, settings.sigv4_max_skew_s)
        self.router, self.capture = build_router(settings, self.recorder, clock.now, policy)  # as the server's
        self.capture_observer = CaptureObserver(self.capture, SinkMetrics(self.outbox, clock.now))
        self.follower = TableFollower(Repository(self.engine), self.router, FOLLOW_INTERVAL_S)
        self.pairs = PairCollector()
        self.router.mirror.sink = self.pairs  # an experiment's paired report counts this router's pairs too
        self.pair_flush = PairFlush(self.pairs, PairStore(self.engine))
        self.assignment_shipper = AssignmentShipper(AssignmentFlush(self.router.assignments,
                                                                    FeedbackRepository(self.engine)))
        self.reporter = RouterReporter(RouterRegistry(self.engine), self.router, self.id, "process",
                                       ship=self._ship, clock=clock.now, capture_failures=self.capture.failures)
        self.router.on_demand = self.reporter.wake  # a request held for a cold start is reported at once
        self.app = Guard(Gateway(self.router, _Health(self.router)), policy, listen_host=host, port=port,
                         allowed_hosts=settings.allowed_hosts.split(","),
                         max_aws_body_bytes=settings.max_aws_body_bytes,
                         body_read_timeout_s=settings.body_read_timeout_s)

    def _ship(self, now: float) -> int:
        self.recorder.flush(now)
        self.capture_observer.tick(now)  # its data capture's counters go with its invocation metrics
        shipped = self.outbox.ship(now)
        try:  # with the metrics: the paired report's pairs (kept, bounded, while the store is down)
            self.pair_flush.flush()
        except Exception:
            log.warning("could not store the router's paired answers; retrying", exc_info=True)
        return shipped

    def serve_forever(self) -> None:
        try:
            self.follower.follow_once()
        except Exception:
            log.warning("the store is unreachable; serving no table until it answers")
        self.capture.start()
        self.assignment_shipper.start()  # an A/B test's records of who answered which id, for the feedback API
        self.follower.start()
        self.reporter.start()
        try:
            GracefulServer(uvicorn_config(self.app, host=self.host, port=self.port, lifespan="off",
                                          timeout_keep_alive=30, date_header=True)).run()
        finally:
            self.follower.stop()
            self.capture.stop()  # writes every captured record taken (counted in the last shipment)
            self.assignment_shipper.stop()  # stores its last assignments
            self.reporter.stop()  # ships the open second too, and leaves the routers table
            self.engine.dispose()
