"""What the router reports per invocation, for the metric store to aggregate."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class InvocationRecorder(Protocol):
    def record_invocation(
        self, endpoint: str, variant: str, config: str, instance_id: str, outcome: str,
        model_latency_us: float | None, overhead_latency_us: float, now: float,
    ) -> None:
        """outcome: ok | model_error_4xx | model_error_5xx | client_4xx | server_5xx."""

    def record_mirror_dropped(self, endpoint: str, variant: str, config: str, now: float) -> None:
        """A copy for shadow ``variant`` was dropped: its in-flight limit was reached."""

    def record_container_latency(self, endpoint: str, variant: str, container: str, latency_us: float,
                                 now: float) -> None:
        """ContainerLatency of one container of an inference pipeline."""

    def set_instance_counts(self, counts: Mapping[tuple[str, str, str], int]) -> None:
        """Healthy instances per (endpoint, variant, config) of the table now served (InvocationsPerInstance)."""


class NullRecorder:
    def record_invocation(
        self, endpoint: str, variant: str, config: str, instance_id: str, outcome: str,
        model_latency_us: float | None, overhead_latency_us: float, now: float,
    ) -> None:
        return None

    def record_mirror_dropped(self, endpoint: str, variant: str, config: str, now: float) -> None:
        return None

    def record_container_latency(self, endpoint: str, variant: str, container: str, latency_us: float,
                                 now: float) -> None:
        return None

    def set_instance_counts(self, counts: Mapping[tuple[str, str, str], int]) -> None:
        return None
