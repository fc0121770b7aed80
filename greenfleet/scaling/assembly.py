"""Assembly of Application Auto Scaling inside a server: its service (for the faces) and its controller."""

from __future__ import annotations

from sqlalchemy import Engine

from greenfleet.alarms import AlarmService
from greenfleet.clock import Clock
from greenfleet.scaling.alarms import AlarmShape
from greenfleet.scaling.driver import ScalingDriver
from greenfleet.scaling.machine import Limits
from greenfleet.scaling.names import NAMESPACE, RESOURCE, ScalingArns
from greenfleet.scaling.repository import ScalingRepository
from greenfleet.scaling.service import AlarmPort, ScalingService
from greenfleet.services.endpoints import EndpointService
from greenfleet.settings import Settings
from greenfleet.store.repository import Repository


class Scaling:
    def __init__(self, settings: Settings, engine: Engine, store: Repository, clock: Clock, alarms: AlarmService,
                 endpoints: EndpointService) -> None:
        self.repo = ScalingRepository(engine)
        shape = AlarmShape(settings.scaling_alarm_period_s, settings.scaling_alarm_high_datapoints,
                           settings.scaling_alarm_low_datapoints, settings.scaling_alarm_low_ratio)
        port = AlarmPort(lambda body: alarms.put_alarm(body), lambda names: alarms.delete_alarms(names))
        self.service = ScalingService(self.repo, store, ScalingArns(settings.region, settings.account_id), clock,
                                      port, default_cooldown_s=settings.scaling_default_cooldown_s, shape=shape,
                                      max_per_variant=settings.max_instances_per_variant)
        self.driver = ScalingDriver(self.repo, self.service, alarms, endpoints,
                                    limits=Limits(activity_timeout_s=settings.scaling_activity_timeout_s),
                                    shape=shape, default_cooldown_s=settings.scaling_default_cooldown_s)

    def scaled_variants(self, endpoint: str) -> set[str]:
        """The variants of ``endpoint`` registered as scalable targets."""
        found = set()
        for row in self.repo.list_targets(NAMESPACE):
            match = RESOURCE.fullmatch(row["resource_id"])
            if match and match.group(1) == endpoint:
                found.add(match.group(2))
        return found
