"""Assembly: settings → store → services → reconciler → one ASGI app on one base URL."""

from __future__ import annotations

import contextlib
import logging
import random
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from greenfleet.alarms import AlarmService
from greenfleet.api.app import create_app
from greenfleet.api.auth import BearerTokenAuth
from greenfleet.api.gateway import Gateway
from greenfleet.capture import CaptureWriter
from greenfleet.capture.observer import CaptureObserver
from greenfleet.clock import Clock, SystemClock
from greenfleet.control.observability import Observability
from greenfleet.control.reconciler import Hooks, Reconciler
from greenfleet.control.rollout_driver import DeploymentDriver
from greenfleet.events import EventService
from greenfleet.httpserver import uvicorn_config
from greenfleet.instances.backend import InstanceBackend
from greenfleet.instances.local import LocalProcessBackend
from greenfleet.metrics import MetricService
from greenfleet.monitoring.definitions import JobDefinitionService
from greenfleet.monitoring.driver import MonitoringDriver, capture_destination
from greenfleet.monitoring.repository import MonitoringRepository
from greenfleet.monitoring.service import MonitoringService
from greenfleet.resources.names import ArnFactory
from greenfleet.rollout import Limits
from greenfleet.router.proxy import Router
from greenfleet.services.deployments import DeploymentService
from greenfleet.services.endpoints import EndpointService
from greenfleet.services.models import ModelService
from greenfleet.services.tags import TagService
from greenfleet.settings import Settings
from greenfleet.store.database import create_store_engine, migrate
from greenfleet.store.repository import Repository

log = logging.getLogger("greenfleet")


class _Uvicorn(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM after its shutdown, which would kill the process before the
    fleet is stopped; greenfleet handles the signal and returns normally instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


@dataclass
class Services:
    """What the faces (REST, SageMaker protocol, CLI through REST) call."""

    models: ModelService
    endpoints: EndpointService
    tags: TagService
    router: Router
    settings: Settings
    extras: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["extras"][name]
        except KeyError:
            raise AttributeError(name) from None


class Server:
    def __init__(self, settings: Settings, clock: Clock | None = None,
                 backend: InstanceBackend | None = None) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        settings.home.mkdir(parents=True, exist_ok=True)
        self.engine = create_store_engine(settings.resolved_database_url())
        migrate(self.engine)
        self.repo = Repository(self.engine)
        arns = ArnFactory(settings.region, settings.account_id)
        tags = TagService(self.repo)
        models = ModelService(self.repo, arns, self.clock, tags)
        endpoints = EndpointService(self.repo, arns, self.clock, models, tags)
        endpoints.strict_minimums = settings.strict_deployment_minimums
        self.events = EventService(self.engine, self.clock, account_id=settings.account_id, region=settings.region)
        self.metrics = MetricService(self.engine, self.clock, raw_retention_s=settings.metrics_raw_retention_s,
                                     rollup_retention_s=settings.metrics_rollup_retention_s)
        self.alarms = AlarmService(self.engine, self.metrics, self.events, self.clock, region=settings.region,
                                   account_id=settings.account_id)
        self.router = Router(settings.account_id, settings.max_payload_bytes, settings.invocation_timeout_s,
                             recorder=self.metrics.recorder, rng=random.Random(settings.router_seed),
                             clock=self.clock.now, credentials=settings.aws_credentials,
                             max_skew_s=settings.sigv4_max_skew_s)
        self.capture = CaptureWriter(max_queued_bytes=settings.capture_max_queued_bytes,
                                     flush_interval_s=settings.capture_flush_interval_s,
                                     s3_endpoint_url=settings.s3_endpoint_url)
        self.router.capture = self.capture
        endpoints.capture_failure = self.capture.failure
        self.backend = backend or LocalProcessBackend(
            settings.home, python=settings.worker_python, orphan_grace_s=settings.worker_orphan_grace_s,
            artifact_max_bytes=settings.artifact_max_bytes, s3_endpoint_url=settings.s3_endpoint_url)
        self.services = Services(models, endpoints, tags, self.router, settings,
                                 extras={"metrics": self.metrics, "alarms": self.alarms, "events": self.events})
        self.hooks: list[Hooks] = []
        self.reconciler = Reconciler(
            self.repo, self.backend, self.router, self.clock, interval_s=settings.reconcile_interval_s,
            startup_timeout_s=settings.startup_health_check_timeout_s,
            restart_backoff_s=settings.instance_restart_backoff_s, drain_timeout_s=settings.drain_timeout_s,
            hooks=self.hooks)
        limits = Limits(default_timeout_s=settings.deployment_timeout_s, drain_timeout_s=settings.drain_timeout_s,
                        rollback_timeout_s=settings.rollback_timeout_s)
        self.services.extras["deployments"] = DeploymentService(
            self.repo, endpoints, self.clock, limits, settings.strict_deployment_minimums)
        endpoints.changed = self.reconciler.wake
        self.deployments = DeploymentDriver(self.repo, self.reconciler, alarms=self.alarms, events=self.events,
                                            metrics=self.metrics)
        # Order matters: alarms are evaluated before the deployment driver reads them in the same pass.
        self.hooks.extend([Observability(self.reconciler, self.metrics, self.alarms, self.events), self.deployments])
        self.hooks.append(CaptureObserver(self.capture, self.metrics))  # monitor: data capture metrics
        monitoring_repo = MonitoringRepository(self.engine)
        monitoring = MonitoringService(monitoring_repo, self.clock, settings.region, settings.account_id,
                                       lambda name: capture_destination(self.repo, name), tags,
                                       settings.s3_endpoint_url, settings.monitoring_min_interval_s)
        monitoring.changed = self.reconciler.wake
        self.services.extras["monitoring"] = monitoring
        self.services.extras["monitoring_jobs"] = JobDefinitionService(monitoring_repo, self.clock, tags,
                                                                       lambda kind, name: monitoring.arn(name, kind))
        self.monitor = MonitoringDriver(monitoring_repo, self.clock, self.metrics,
                                        lambda name: capture_destination(self.repo, name), settings.s3_endpoint_url)
        self.hooks.append(self.monitor)  # monitor: the Model Monitor scheduler (controller)
        self.app = Gateway(self.router, BearerTokenAuth(create_app(self.services), settings.api_token))
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start_controllers(self) -> None:
        self.events.start()
        self.alarms.start()
        self.capture.start()
        self.reconciler.start()

    def stop_controllers(self, stop_instances: bool = True) -> None:
        self.reconciler.stop()
        self.monitor.close()
        self.deployments.checks.close()
        self.backend.close(stop_instances=stop_instances)
        self.capture.stop()
        self.alarms.stop()
        self.events.stop()
        self.metrics.close()
        self.engine.dispose()

    def _config(self) -> uvicorn.Config:
        return uvicorn_config(self.app, host=self.settings.host, port=self.settings.port, lifespan="on",
                              timeout_keep_alive=30, date_header=True)

    def serve_forever(self) -> None:
        """Run until SIGINT/SIGTERM; then stop the controllers and the instances."""
        self.start_controllers()
        log.warning("greenfleet listening on %s", self.settings.base_url)
        try:
            _Uvicorn(self._config()).run()
        finally:
            self.stop_controllers(stop_instances=True)

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
