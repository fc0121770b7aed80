"""Business logic behind every face (REST, SageMaker wire protocol, CLI): dicts in SageMaker's
shapes in, dicts out. Services never see HTTP requests.

``Services`` is what the faces hold: one typed field per service (the server assembles it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from greenfleet.alarms.service import AlarmService
    from greenfleet.asyncinference.service import AsyncInvocations
    from greenfleet.events.service import EventService
    from greenfleet.experiments.service import ExperimentService
    from greenfleet.feedback.service import FeedbackService
    from greenfleet.metrics.service import MetricService
    from greenfleet.monitoring.definitions import JobDefinitionService
    from greenfleet.monitoring.service import MonitoringService
    from greenfleet.registry.audit import AuditService
    from greenfleet.registry.bindings import BindingService
    from greenfleet.registry.evidence import EvidenceService
    from greenfleet.registry.imports import PromotionImporter
    from greenfleet.registry.packages import RegistryService
    from greenfleet.router.proxy import Router
    from greenfleet.scaling.service import ScalingService
    from greenfleet.services.deployments import DeploymentService
    from greenfleet.services.endpoints import EndpointService
    from greenfleet.services.models import ModelService
    from greenfleet.services.tags import TagService
    from greenfleet.settings import Settings

__all__ = ["Services"]


@dataclass(frozen=True, slots=True)
class Services:
    """What the faces (REST, SageMaker and CloudWatch protocols, the CLI through REST) call."""

    models: ModelService
    endpoints: EndpointService
    deployments: DeploymentService
    tags: TagService
    metrics: MetricService
    alarms: AlarmService
    events: EventService
    router: Router
    settings: Settings
    registry: RegistryService | None = None
    bindings: BindingService | None = None
    registry_audit: AuditService | None = None
    registry_evidence: EvidenceService | None = None
    registry_imports: PromotionImporter | None = None
    async_invocations: AsyncInvocations | None = None
    monitoring: MonitoringService | None = None
    monitoring_jobs: JobDefinitionService | None = None
    experiments: ExperimentService | None = None
    feedback: FeedbackService | None = None
    scaling: ScalingService | None = None
