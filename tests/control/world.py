"""A control-plane world for tick-by-tick tests: a real store (SQLite), the real services, router,
reconciler and deployment driver, a fake clock and the fake instance backend. ``tick`` runs one pass;
``restart`` builds a new control plane on the same store and the same (surviving) instances, as a
restarted server would."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from greenfleet.clock import FakeClock
from greenfleet.control.control_pass import Step
from greenfleet.control.instance_groups import Ceilings
from greenfleet.control.reconciler import Hooks, Reconciler
from greenfleet.control.rollout_driver import DeploymentDriver
from greenfleet.instances.backend import InstanceSpec
from greenfleet.resources.names import ArnFactory
from greenfleet.rollout import Limits
from greenfleet.router.proxy import Router
from greenfleet.services.deployments import DeploymentService
from greenfleet.services.endpoints import EndpointService
from greenfleet.services.models import ModelService
from greenfleet.services.tags import TagService
from greenfleet.store.database import create_store_engine, migrate
from greenfleet.store.repository import Repository
from tests.control.fake_backend import FakeBackend


class SetupTimes(Hooks):
    """Records ModelSetupTime as the server's InstanceEvents would (instance id, config, seconds)."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, float]] = []
        self.statuses: list[tuple[str, str]] = []

    def instance_ready(self, spec: InstanceSpec, setup_time_s: float, now: float) -> None:
        self.recorded.append((spec.instance_id, spec.config_name, setup_time_s))

    def endpoint_changed(self, before: dict[str, Any], after: dict[str, Any], now: float) -> None:
        self.statuses.append((before["name"], after["status"]))


class ControlWorld:
    def __init__(self, directory: Path, *, ceilings: Ceilings | None = None, backoff_s: float = 1.0,
                 backoff_reset_s: float = 60.0, startup_timeout_s: float = 30.0,
                 health_check_interval_s: float = 0.0) -> None:
        self.engine = create_store_engine(f"sqlite:///{directory / 'store.db'}")
        migrate(self.engine)
        self.repo = Repository(self.engine)
        self.clock = FakeClock()
        arns = ArnFactory("us-east-1", "123456789012")
        tags = TagService(self.repo)
        self.models = ModelService(self.repo, arns, self.clock, tags)
        self.endpoints = EndpointService(self.repo, arns, self.clock, self.models, tags)
        self.deployments = DeploymentService(self.repo, self.endpoints, self.clock, Limits(), strict_minimums=False)
        self.backend = FakeBackend(self.clock)
        self.ceilings, self.backoff_s, self.backoff_reset_s = ceilings, backoff_s, backoff_reset_s
        self.startup_timeout_s, self.health_check_interval_s = startup_timeout_s, health_check_interval_s
        self.restart()

    def restart(self, extra_steps: list[Step] | None = None) -> None:
        """A new control plane (router, reconciler, driver) on the same store and surviving instances."""
        self.router = Router("123456789012", 6 * 1024 * 1024, 60.0, clock=self.clock.now)
        self.events = SetupTimes()
        self.reconciler = Reconciler(
            self.repo, self.backend, self.router, self.clock, interval_s=0.5, startup_timeout_s=self.startup_timeout_s,
            restart_backoff_s=self.backoff_s, drain_timeout_s=30.0, backoff_reset_s=self.backoff_reset_s,
            health_check_interval_s=self.health_check_interval_s, ceilings=self.ceilings, hooks=[self.events],
            pinger=self.backend.ping)
        self.driver = DeploymentDriver(self.repo)
        self.reconciler.control.steps[:] = [self.reconciler.routing_step, *(extra_steps or []), self.driver]
        self.reconciler.adopt()
        self.reconciler.mark_recovering()

    def tick(self, seconds: float = 0.5, passes: int = 1) -> None:
        for _ in range(passes):
            self.clock.advance(seconds)
            asyncio.run(self.reconciler.reconcile_once())

    # --- resources ------------------------------------------------------------------------------------
    def model(self, name: str, image: str = "greenfleet/sklearn") -> None:
        self.models.create_model({"ModelName": name, "PrimaryContainer": {"Image": image,
                                                                          "ModelDataUrl": f"/models/{name}"}})

    def config(self, name: str, model: str, count: int = 1, variant: str = "a") -> None:
        self.models.create_endpoint_config({"EndpointConfigName": name, "ProductionVariants": [
            {"VariantName": variant, "ModelName": model, "InitialInstanceCount": count,
             "InstanceType": "ml.m5.large"}]})

    def describe(self, name: str) -> dict[str, Any]:
        return self.endpoints.describe_endpoint({"EndpointName": name})

    def status(self, name: str) -> str:
        return str(self.describe(name)["EndpointStatus"])

    def routed(self, name: str) -> list[str]:
        route = self.router.table.get(name)
        return sorted(i.instance_id for t in route.targets for i in t.instances) if route else []
