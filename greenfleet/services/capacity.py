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

Doc = dict[str, Any]

__all__ = ["InstanceLimits", "endpoint_instances", "variant_instances"]


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
        """Check each variant's ``count_key`` and their sum against the endpoint ceiling; the sum."""
        total = 0
        for index, variant in enumerate(variants, start=1):
            count = variant_instances(variant, count_key)
            self.check_variant(count, f"{where}.{index}.{count_key}")
            total += count
        self.check_endpoint(0, total, where)
        return total


def variant_instances(variant: Doc, count_key: str = "DesiredInstanceCount") -> int:
    """Instances a variant asks for (a serverless variant runs one)."""
    if variant.get("Serverless") or variant.get("ServerlessConfig"):
        return 1
    value = variant.get(count_key)
    return int(value) if isinstance(value, int | float) and value == value else 0


def endpoint_instances(state: Doc) -> int:
    """Instances a stored endpoint document asks for: its variants, shadows and a pending fleet."""
    counted = sum(variant_instances(v) for v in [*(state.get("variants") or []),
                                                 *(state.get("shadow_variants") or [])])
    pending = state.get("pending") or {}
    growing = sum(variant_instances(v) for v in pending.get("variants") or [])
    targets = pending.get("target_counts")
    if isinstance(targets, dict):  # a pending fleet grows towards its target counts
        growing = max(growing, sum(int(n) for n in targets.values() if isinstance(n, int | float)))
    counted += growing
    return counted


def _exceeded(name: str, setting: str, limit: int, current: int, delta: int, where: str) -> ResourceLimitExceeded:
    return ResourceLimitExceeded(
        f"The server-level service limit '{name}' is {limit} Instances, with current utilization of {current} "
        f"Instances and a request delta of {delta} Instances ({where}). Raise GREENFLEET_{setting} to allow more.")
