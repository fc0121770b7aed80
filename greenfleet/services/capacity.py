"""Instance ceilings: how many instances a variant, an endpoint and the whole server may ask for.

Every entry point that records instance counts (CreateEndpointConfig, CreateEndpoint, UpdateEndpoint,
UpdateEndpointWeightsAndCapacities; manifests go through them) checks them here and refuses an
over-limit request with SageMaker's ``ResourceLimitExceeded``. The counts are *desired* counts, read
from the stored endpoint documents: a blue/green deployment asks for both fleets at once, so both count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from greenfleet.errors import ResourceLimitExceeded
from greenfleet.resources.endpoint_state import DesiredState, Fleet

Doc = dict[str, Any]

__all__ = ["InstanceLimits", "endpoint_instances", "fleet_counts", "variant_instances"]


@dataclass(frozen=True, slots=True)
class InstanceLimits:
    per_variant: int
    per_endpoint: int
    total: int

    def check_variant(self, count: int, where: str) -> None:
        if count > self.per_variant:
            raise _exceeded("instances per variant", "MAX_INSTANCES_PER_VARIANT", self.per_variant, 0, count,
                            where)

    def check_endpoint(self, current: int, delta: int, where: str) -> None:
        if current + delta > self.per_endpoint:
            raise _exceeded("instances per endpoint", "MAX_INSTANCES_PER_ENDPOINT", self.per_endpoint, current,
                            delta, where)

    def check_total(self, current: int, delta: int, where: str) -> None:
        if current + delta > self.total:
            raise _exceeded("instances per server", "MAX_INSTANCES_TOTAL", self.total, current, delta, where)

    def check_variants(self, variants: Iterable[Doc], count_key: str, where: str) -> int:
        """Check each variant document's ``count_key`` and their sum against the endpoint ceiling; the sum."""
        total = 0
        for index, variant in enumerate(variants, start=1):
            count = variant_instances(variant, count_key)
            self.check_variant(count, f"{where}.{index}.{count_key}")
            total += count
        self.check_endpoint(0, total, where)
        return total


def variant_instances(variant: Doc, count_key: str) -> int:
    """Instances a variant document of an endpoint config asks for."""
    value = variant.get(count_key)
    return int(value) if isinstance(value, int | float) and value == value else 0


def fleet_counts(fleet: Fleet) -> dict[str, int]:
    """Instances each variant of a fleet asks for: a green fleet grows towards its target counts."""
    return {v.name: max(v.desired_count, fleet.target_counts.get(v.name, 0)) for v in fleet.variants}


def endpoint_instances(state: DesiredState) -> int:
    """Instances an endpoint's desired state asks for, across its fleets (a deployment runs two, a judge's
    baseline a third; a shadow fleet's instances count too)."""
    return sum(sum(fleet_counts(fleet).values()) for fleet in state.fleets)


def _exceeded(name: str, setting: str, limit: int, current: int, delta: int, where: str) -> ResourceLimitExceeded:
    return ResourceLimitExceeded(
        f"The server-level service limit '{name}' is {limit} Instances, with current utilization of {current} "
        f"Instances and a request delta of {delta} Instances ({where}). Raise GREENFLEET_{setting} to allow more.")
