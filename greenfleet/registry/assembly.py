"""Assembly of the model registry inside a server: its services (for the faces) and its controller."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from greenfleet.clock import Clock
from greenfleet.events import EventService
from greenfleet.registry.artifacts import ArtifactStore
from greenfleet.registry.audit import AuditService
from greenfleet.registry.binding_driver import BindingDriver
from greenfleet.registry.bindings import BindingService
from greenfleet.registry.evidence import EvidenceService, required_checks
from greenfleet.registry.imports import PromotionImporter
from greenfleet.registry.names import RegistryArns
from greenfleet.registry.packages import RegistryService, served_container
from greenfleet.registry.repository import RegistryRepository
from greenfleet.settings import Settings
from greenfleet.store.repository import Repository


class Registry:
    def __init__(self, settings: Settings, engine: Engine, store: Repository, clock: Clock, events: EventService,
                 services: Any) -> None:
        self.repo = RegistryRepository(engine)
        arns = RegistryArns(settings.region, settings.account_id)
        artifacts = ArtifactStore(settings.home, max_bytes=settings.artifact_max_bytes,
                                  s3_endpoint_url=settings.s3_endpoint_url, s3_uri=settings.registry_s3_uri)
        self.service = RegistryService(self.repo, arns, clock, events, artifacts, settings.s3_endpoint_url)
        services.models.package_container = lambda given, where: served_container(self.service, given, where)
        self.bindings = BindingService(self.repo, store, lambda group: arns.version(group, 0)[:-1], clock,
                                       settings.strict_deployment_minimums)
        self.service.live_on = self.bindings.live_on
        self.audit = AuditService(store, self.repo)
        self.evidence = EvidenceService(self.repo, clock, required_checks(settings.registry_required_evidence))
        self.service.approval_gate = self.evidence.gate
        self.imports = PromotionImporter(self.service)
        self.driver = BindingDriver(self.repo, store, self.service, services.models, services.deployments, clock,
                                    reject_on_rollback=settings.reject_on_rollback)
