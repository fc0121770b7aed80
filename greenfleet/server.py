"""Assembly: settings → store → services → reconciler → one ASGI app on one base URL."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import uvicorn
from sqlalchemy import Connection

from greenfleet import __version__
from greenfleet.alarms import AlarmService
from greenfleet.api.app import create_app
from greenfleet.api.gateway import Gateway
from greenfleet.api.guard import Guard
from greenfleet.asyncinference.backlog import BacklogMetrics
from greenfleet.asyncinference.committer import LoopCommitter
from greenfleet.asyncinference.dispatcher import AsyncDispatcher
from greenfleet.asyncinference.front import AsyncFront
from greenfleet.asyncinference.locations import Locations
from greenfleet.asyncinference.notifications import KIND as NOTIFICATION_KIND
from greenfleet.asyncinference.notifications import NotificationFailures
from greenfleet.asyncinference.queue import Queue
from greenfleet.asyncinference.service import AsyncInvocations
from greenfleet.asyncinference.variant_metrics import AsyncVariantMetrics
from greenfleet.auth.policy import AccessPolicy, is_loopback
from greenfleet.capture.observer import CaptureObserver
from greenfleet.clock import Clock, SystemClock
from greenfleet.control.control_pass import EverySecond
from greenfleet.control.instance_groups import Ceilings
from greenfleet.control.leadership import LeaderElection, migration_lock
from greenfleet.control.observability import AlarmEvaluation, InstanceEvents, MetricsFlush
from greenfleet.control.reconciler import Reconciler
from greenfleet.control.rollout_driver import DeploymentDriver
from greenfleet.control.router_presence import (
    RouterRegistry,
    RouterReport,
    RouterReporter,
    remote_capture_failures,
    remote_demand,
    remote_peaks,
)
from greenfleet.control.table_sync import TableFollower, TablePublish
from greenfleet.dataplane import build_router
from greenfleet.events import EventService
from greenfleet.experiments.driver import ExperimentDriver
from greenfleet.experiments.repository import ExperimentRepository
from greenfleet.experiments.service import ExperimentService
from greenfleet.feedback.assignment_shipper import AssignmentShipper
from greenfleet.feedback.driver import FeedbackDriver
from greenfleet.feedback.ground_truth import feedback_labels
from greenfleet.feedback.repository import FeedbackRepository
from greenfleet.feedback.service import FeedbackService
from greenfleet.httpserver import GracefulServer, uvicorn_config
from greenfleet.instances.backend import InstanceBackend
from greenfleet.instances.factory import BackendUnavailable, create_backend
from greenfleet.instances.isolation import Isolation, WorkerUser, parse_list
from greenfleet.metrics import MetricService
from greenfleet.monitoring.definitions import JobDefinitionService
from greenfleet.monitoring.driver import MonitoringDriver, capture_destination
from greenfleet.monitoring.repository import MonitoringRepository
from greenfleet.monitoring.service import MonitoringService
from greenfleet.ownership import DatabaseLease, HomeLock
from greenfleet.registry.assembly import Registry
from greenfleet.resources.names import ArnFactory
from greenfleet.rollout import Limits
from greenfleet.scaling.assembly import Scaling
from greenfleet.scaling.serverless_driver import ServerlessDriver
from greenfleet.services import Services
from greenfleet.services.capacity import InstanceLimits
from greenfleet.services.deployments import DeploymentService
from greenfleet.services.endpoints import EndpointService
from greenfleet.services.models import ModelService
from greenfleet.services.tags import TagService
from greenfleet.settings import Settings
from greenfleet.store.database import create_store_engine, migrate
from greenfleet.store.repository import Repository

log = logging.getLogger("greenfleet.server")
FOLLOW_INTERVAL_S = 0.1
"""How often a follower on SQLite reads the stored routing table's revision (one indexed read); on
PostgreSQL followers LISTEN for new tables (control/table_sync.py)."""


class ListenError(Exception):
    """The base URL's address cannot be bound: the port is taken, the address is not this machine's, ..."""


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port), ListenError with a plain reason when it cannot be. It listens only
    when uvicorn serves on it: until then a connection is refused, never left waiting on a server that
    is still adopting its instances."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = ("the port is in use (another greenfleet server?); choose another with --port or "
                  "GREENFLEET_PORT") if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise ListenError(f"cannot listen on {host}:{port}: {reason}") from None
    return sock


class ConfigurationError(RuntimeError):
    """The settings describe a server greenfleet refuses to run (the message says why and what to set)."""


def isolation(settings: Settings) -> Isolation:
    """What instance processes may see and do, from the settings."""
    user = None
    if settings.worker_user:
        try:
            user = WorkerUser.lookup(settings.worker_user)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        if os.geteuid() != 0 and user.uid != os.geteuid():
            raise ConfigurationError(f"GREENFLEET_WORKER_USER={settings.worker_user}: the server runs as uid "
                                     f"{os.geteuid()} and cannot start processes as another user; run it as root "
                                     "or unset GREENFLEET_WORKER_USER.")
    return Isolation(passthrough=parse_list(settings.worker_environment_passthrough), user=user,
                     model_data_roots=tuple(settings.data_roots()),
                     allow_link_local=settings.model_data_allow_link_local,
                     allowed_images=parse_list(settings.allowed_images) or ("*",))


class _Uvicorn(GracefulServer):
    """Returns from ``run()`` on SIGINT/SIGTERM, so the fleet is stopped after it. ``announce``, when set,
    is logged (INFO) once the server listens."""

    announce: str | None = None

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.announce:
            log.info("%s", self.announce)


class Server:
    def __init__(self, settings: Settings, clock: Clock | None = None,
                 backend: InstanceBackend | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.policy = AccessPolicy(settings.aws_credentials, settings.api_token, settings.region,
                                   settings.sigv4_max_skew_s)
        if self.policy.open and not is_loopback(settings.host) and not settings.allow_unauthenticated_remote:
            raise ConfigurationError(
                f"greenfleet refuses to listen on {settings.host} with no credential configured: anyone who "
                "reaches the port could run models as this user. Set GREENFLEET_API_TOKEN and/or "
                "GREENFLEET_AWS_CREDENTIALS, listen on 127.0.0.1, or set GREENFLEET_ALLOW_UNAUTHENTICATED_REMOTE=true.")
        settings.home.mkdir(parents=True, exist_ok=True)
        self.home_lock = HomeLock(settings.home)
        self.home_lock.acquire()  # one server per home: a second one stops here (AlreadyRunning)
        self.engine = create_store_engine(settings.resolved_database_url())
        self.lease = DatabaseLease(self.engine)
        try:
            if not settings.ha:
                self.lease.acquire()  # and one per PostgreSQL database
                migrate(self.engine)
            elif self.engine.dialect.name != "postgresql":
                raise ConfigurationError("GREENFLEET_HA=true needs a PostgreSQL store (GREENFLEET_DATABASE_URL="
                                         "postgresql://...) that every server shares; SQLite is one machine's.")
            else:  # several servers on one database: they migrate one at a time, then elect a leader
                with migration_lock(self.engine):
                    migrate(self.engine)
        except BaseException:
            self.lease.release()
            self.home_lock.release()
            raise
        self.repo = Repository(self.engine)
        arns = ArnFactory(settings.region, settings.account_id)
        tags = TagService(self.repo)
        models = ModelService(self.repo, arns, self.clock, tags)
        endpoints = EndpointService(self.repo, arns, self.clock, models, tags)
        endpoints.strict_minimums = settings.strict_deployment_minimums
        models.allowed_images = parse_list(settings.allowed_images)
        models.limits = endpoints.limits = InstanceLimits(
            settings.max_instances_per_variant, settings.max_instances_per_endpoint, settings.max_instances_total)
        self.events = EventService(self.engine, self.clock, account_id=settings.account_id, region=settings.region)
        self.metrics = MetricService(self.engine, self.clock, raw_retention_s=settings.metrics_raw_retention_s,
                                     rollup_retention_s=settings.metrics_rollup_retention_s)
        self.alarms = AlarmService(self.engine, self.metrics, self.events, self.clock, region=settings.region,
                                   account_id=settings.account_id,
                                   action_webhooks=settings.alarm_action_webhooks)
        self.alarms.strict_periods = settings.strict_deployment_minimums
        self.router, self.capture = build_router(settings, self.metrics.recorder, self.clock.now, self.policy)
        endpoints.capture_failure = self.capture.failure
        try:
            self.backend = backend or create_backend(settings, isolation(settings), self.home_lock.path)
        except BaseException as exc:
            self.lease.release()
            self.engine.dispose()
            self.home_lock.release()
            if isinstance(exc, BackendUnavailable):
                raise ConfigurationError(str(exc)) from None
            raise
        self.async_queue = Queue(self.engine)
        locations = Locations(settings.s3_endpoint_url, settings.async_roots())
        models.async_locations, models.notification_webhooks = locations, dict(settings.alarm_action_webhooks)
        models.pipelines_refused_by = None if settings.backend == "local" else settings.backend
        self.async_invocations = AsyncInvocations(self.repo, self.async_queue, locations, self.clock,
                                                  settings.account_id, lambda: self.router.table.revision)
        async_metrics = AsyncVariantMetrics(self.metrics.store)
        self.async_dispatcher = AsyncDispatcher(
            self.async_queue, locations, self.router, self.clock, region=settings.region,
            notify=self._notify, backlogs=BacklogMetrics(self.metrics), max_in_flight=settings.async_max_in_flight,
            variant_metrics=async_metrics, retention_s=settings.async_retention_s)
        self.events.dispatcher.add_listener(NotificationFailures(async_metrics, self.clock))
        self.async_invocations.accepted = self.async_dispatcher.wake
        self.reconciler = Reconciler(
            self.repo, self.backend, self.router, self.clock, interval_s=settings.reconcile_interval_s,
            startup_timeout_s=settings.startup_health_check_timeout_s,
            restart_backoff_s=settings.instance_restart_backoff_s, drain_timeout_s=settings.drain_timeout_s,
            backoff_reset_s=settings.instance_restart_backoff_reset_s,
            health_check_interval_s=settings.health_check_interval_s,
            ceilings=Ceilings(settings.max_instances_per_variant, settings.max_instances_per_endpoint,
                              settings.max_instances_total),
            hooks=[InstanceEvents(self.metrics, self.events)])
        self.reconciler.shadow_niceness = settings.shadow_niceness  # a shadow is best effort beside production
        # SCHED_IDLE unless asked otherwise; by default (not when asked: create_backend refuses that) a local
        # backend on a system without it keeps the niceness alone.
        idle = settings.shadow_scheduling == "idle" and (settings.backend != "local" or hasattr(os, "SCHED_IDLE"))
        self.reconciler.shadow_scheduling = "idle" if idle else "normal"
        limits = Limits(default_timeout_s=settings.deployment_timeout_s, drain_timeout_s=settings.drain_timeout_s,
                        rollback_timeout_s=settings.rollback_timeout_s)
        deployments = DeploymentService(self.repo, endpoints, self.clock, limits, settings.strict_deployment_minimums)
        deployments.alarm_exists = lambda name: bool(self.alarms.describe_alarms([name]))
        self.registry = Registry(settings, self.engine, self.repo, self.clock, self.events,
                                 SimpleNamespace(models=models, deployments=deployments))
        monitoring_repo = MonitoringRepository(self.engine)
        monitoring = MonitoringService(monitoring_repo, self.clock, settings.region, settings.account_id,
                                       lambda name: capture_destination(self.repo, name), tags,
                                       settings.s3_endpoint_url, settings.monitoring_min_interval_s)
        monitoring.changed = self.reconciler.wake
        monitoring_jobs = JobDefinitionService(monitoring_repo, self.clock, tags,
                                               lambda kind, name: monitoring.arn(name, kind))
        self.monitor = MonitoringDriver(monitoring_repo, self.clock, self.metrics,
                                        lambda name: capture_destination(self.repo, name), settings.s3_endpoint_url)
        feedback_repo = FeedbackRepository(self.engine)
        self.monitor.ground_truth = feedback_labels(feedback_repo)  # model quality's labels beyond its files
        feedback = FeedbackService(feedback_repo, endpoints, self.router.assignments, self.clock,
                                   settings.feedback_retention_s, strict_minimums=settings.strict_deployment_minimums)
        self.feedback = FeedbackDriver(feedback, models, deployments, self.events,
                                       promote_bake_s=settings.experiment_promote_bake_s)
        self.assignment_shipper = AssignmentShipper(feedback.assignment_flush)
        experiment_repo = ExperimentRepository(self.engine)
        experiments = ExperimentService(experiment_repo, endpoints, self.clock, settings.region, settings.account_id,
                                        strict_minimums=settings.strict_deployment_minimums)
        self.experiments = ExperimentDriver(experiment_repo, endpoints, models, deployments, self.clock,
                                            promote_bake_s=settings.experiment_promote_bake_s)
        self.scaling = Scaling(settings, self.engine, self.repo, self.clock, self.alarms, endpoints)
        deployments.scaled_variants = self.scaling.scaled_variants
        self.services = Services(models=models, endpoints=endpoints, deployments=deployments, tags=tags,
                                 metrics=self.metrics, alarms=self.alarms, events=self.events, router=self.router,
                                 settings=settings, registry=self.registry.service, bindings=self.registry.bindings,
                                 registry_audit=self.registry.audit, registry_evidence=self.registry.evidence,
                                 registry_imports=self.registry.imports, async_invocations=self.async_invocations,
                                 monitoring=monitoring, monitoring_jobs=monitoring_jobs, experiments=experiments,
                                 feedback=feedback, scaling=self.scaling.service)
        endpoints.changed = self.reconciler.wake
        experiments.changed = self.reconciler.wake
        self.router.mirror.sink = experiments.pairs  # the report pairs production and shadow answers
        self.deployments = DeploymentDriver(self.repo, self.reconciler.wake, alarms=self.alarms, events=self.events,
                                            metrics=self.metrics)
        # The pass after the instance step, in order (control_pass.py): alarms are evaluated before the
        # deployment driver reads them in the same pass. Autoscaling, shadow experiments, the registry
        # deployer and monitors go in this list. Model Monitor's executions run on their own thread; the
        # step only starts them and records their progress.
        self.capture_observer = capture_observer = CaptureObserver(self.capture, self.metrics)
        self.reconciler.control.steps[:] = [
            self.reconciler.routing_step,
            TablePublish(self.repo, self.router),  # followers and `greenfleet router` processes read it
            # every pass: cold starts wait; every router's requests count (a held one starts the variant)
            ServerlessDriver(self.router, endpoints, settings.serverless_idle_s,
                             lambda now: remote_demand(self._other_routers(), now)),
            EverySecond(MetricsFlush(self.metrics, self.backend, self.router.outstanding,
                                     lambda now: remote_peaks(self._other_routers(), now))),
            EverySecond(AlarmEvaluation(self.alarms)),
            self.deployments,
            self.registry.driver,  # model registry approvals → guarded UpdateEndpoint (issue 11)
            EverySecond(capture_observer),  # data capture's counters (issue 13)
            EverySecond(self.monitor),  # Model Monitor's scheduler: due executions (issue 13)
            EverySecond(experiments.pair_flush),  # the paired report's pairs into the store (issue 12)
            self.experiments,  # inference experiments: shadow fleets, schedules, Promote/Retain/Remove (issue 12)
            self.feedback,  # inference id assignments, retention, A/B test decisions (issue 12)
            EverySecond(self.scaling.driver),  # Application Auto Scaling (issue 14): after the alarms it reads
        ]
        self.async_committer = LoopCommitter(self.async_queue, self.async_dispatcher.wake)
        front = AsyncFront(self.async_invocations, self.policy, self.clock.now, self.async_committer)
        self.app = Guard(Gateway(self.router, create_app(self.services), front), self.policy, listen_host=settings.host,
                         port=settings.port, allowed_hosts=settings.allowed_hosts.split(","),
                         max_api_body_bytes=settings.max_api_body_bytes,
                         max_aws_body_bytes=settings.max_aws_body_bytes,
                         body_read_timeout_s=settings.body_read_timeout_s)
        self.router_id = f"server-{uuid.uuid4().hex[:16]}"
        self.routers = RouterRegistry(self.engine)
        # DescribeEndpoint names other routers whose capture fails (their reports; read per describe, not per request)
        endpoints.remote_capture_failures = lambda destination: remote_capture_failures(
            self._other_routers(), destination, self.clock.now())
        # drains wait for every other router (follower servers, `greenfleet router` processes) to let go
        self.reconciler.remote_routers = self.routers.reports
        self.follower = TableFollower(self.repo, self.router, FOLLOW_INTERVAL_S)
        # What a follower's router holds goes to the store every second (and once more when it stops): its
        # pairs to the paired report, its data capture's counters to its outbox (merged by the leader). Its A/B
        # assignments go within COALESCE_S of being recorded (the assignment shipper), for the feedback API of
        # whichever server an outcome lands on.
        self.last_writes: list[Callable[[], None]] = [experiments.pair_flush.flush,
                                                      lambda: capture_observer.tick(self.clock.now())]
        self.follower.every_second.extend(self.last_writes)
        self.reporter = RouterReporter(self.routers, self.router, self.router_id, "server", ship=self.metrics.ship,
                                       clock=self.clock.now, capture_failures=self.capture.failures)
        self.router.on_demand = self._on_demand
        self.election = LeaderElection(self.engine, self._lead, self._leadership_lost)
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _other_routers(self) -> list[RouterReport]:
        """The reports of every router but this server's own (counted in-process while it leads: its reporter
        stops and removes its row when it takes the lead, and this leaves out a row that outlived that)."""
        return [r for r in self.routers.reports() if r.id != self.router_id]

    def _notify(self, conn: Connection, topic: str, message: dict[str, Any], dedup_id: str, now: float,
                variant: str | None) -> None:
        url = self.settings.alarm_action_webhooks.get(topic)
        if url is not None:
            endpoint = message["requestParameters"]["endpointName"]
            dedup = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{endpoint}/{dedup_id}/{message['invocationStatus']}"))
            self.events.enqueue_webhook(conn, url, message, dedup, now, kind=NOTIFICATION_KIND,
                                        context={"topic": topic, "endpoint": endpoint, "variant": variant,
                                                 "inferenceId": dedup_id})
            self.events.wake()

    def start_controllers(self) -> None:
        self.capture.start()  # data capture belongs to the data plane: every server's router captures
        self.assignment_shipper.start()  # and stores its A/B assignments (the feedback API may be another's)
        if not self.settings.ha:
            self._lead()
            return
        with contextlib.suppress(Exception):
            self.follower.follow_once()  # serve the stored table from the first request
        self.follower.start()
        if self.election.try_once():
            log.info("this server leads the control plane")
            self._lead()
        else:  # until it leads, its router's figures go to the leader's inbox (it listens only after this)
            self.metrics.follow(self.router_id)
            self.reporter.start()
        self.election.start()  # a follower takes over when the leader's session ends

    def _lead(self) -> None:
        """Run the controllers: adopt the instances, resume deployments from their saved state."""
        self.follower.stop()
        self.reporter.stop()  # ships what it holds; the leader's own router is counted in-process
        self.metrics.lead(self.clock.now())
        with contextlib.suppress(Exception):
            self.routers.prune(self.clock.now() - 3600)  # routers killed long ago
        with contextlib.suppress(Exception):
            self.follower.follow_once()  # continue from the last stored table's revision (router processes)
        self.events.start()
        self.alarms.start()
        self.reconciler.start()
        self.async_dispatcher.start()

    def _leadership_lost(self) -> None:
        """Another server may lead now: two sets of controllers must never act on one fleet, so this
        process stops at once (its instances live on; the leader adopts them)."""
        log.critical("greenfleet lost its leadership (database session) and exits")
        logging.shutdown()
        os._exit(70)

    def _on_demand(self) -> None:
        """A request is held for a serverless cold start: wake the pass (the leader's) or the report that
        tells the leader (a follower's)."""
        self.reconciler.wake()
        self.reporter.wake()

    @property
    def leader(self) -> bool:
        return not self.settings.ha or self.election.leader.is_set()

    def stop_controllers(self, stop_instances: bool = True) -> None:
        self.capture.stop()  # serving has ended: every record taken is written (and counted just below)
        self.assignment_shipper.stop()  # stores its last assignments
        self.follower.stop()  # a follower runs its every-second writes once more
        self.reporter.stop()  # and ships them
        self.async_dispatcher.stop()
        self.reconciler.stop()
        for write in self.last_writes:  # the leader's last pass may be up to a pass old
            try:
                write()
            except Exception:
                log.warning("a last write to the store failed while stopping", exc_info=True)
        self.election.stop()  # after the reconciler: never two leaders at once
        self.monitor.close()
        self.deployments.checks.close()
        self.backend.close(stop_instances=stop_instances)
        self.alarms.stop()
        self.events.stop()
        self.metrics.close()
        self.lease.release()
        self.engine.dispose()
        self.home_lock.release()

    def _config(self) -> uvicorn.Config:
        return uvicorn_config(self.app, host=self.settings.host, port=self.settings.port, lifespan="on",
                              timeout_keep_alive=30, date_header=True)

    def serve_forever(self) -> None:
        """Bind the base URL's port (ListenError if it cannot), start the controllers (adopting the workers
        of a crashed server), serve until SIGINT/SIGTERM, then stop the controllers and the instances.
        Binding first means a server that cannot listen never touches the instances of the one that does."""
        sock = listen_socket(self.settings.host, self.settings.port)
        try:
            self.start_controllers()
            try:
                server = _Uvicorn(self._config())
                server.announce = (f"greenfleet {__version__} listening on {self.settings.base_url} "
                                   f"(home {self.settings.home})")
                server.run(sockets=[sock])
            finally:  # with HA the fleet outlives this server: the next leader adopts it
                self.stop_controllers(stop_instances=not self.settings.ha)
        finally:
            sock.close()

    # --- in-process use (tests, demo) ------------------------------------------------------------
    def start_in_thread(self) -> None:
        self.start_controllers()
        self._uvicorn = _Uvicorn(self._config())
        self._thread = threading.Thread(target=self._uvicorn.run, daemon=True)
        self._thread.start()
        while not self._uvicorn.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the server could not listen on {self.settings.base_url}")
            threading.Event().wait(0.02)

    def stop_thread(self, stop_instances: bool = True) -> None:
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.stop_controllers(stop_instances=stop_instances)
