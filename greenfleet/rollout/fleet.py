"""A fleet: the instances of one endpoint configuration's variants, as a rollout moves traffic onto it.

The server builds a ``FleetSpec`` from an endpoint config (after applying RetainAllVariantProperties /
ExcludeRetainedVariantProperties), so instance counts and weights here are the effective ones.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FleetSpec", "VariantSpec"]


class VariantSpec(BaseModel):
    """One production variant at full capacity."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    instance_count: int = Field(ge=0)
    weight: float = Field(ge=0)
    """The variant's weight inside its fleet (SageMaker's VariantWeight)."""


class FleetSpec(BaseModel):
    """The variants of one endpoint config, identified by ``fleet_id`` in actions and observations.

    ``fleet_id`` is the config name unless the server needs another key (for instance an update to the
    endpoint's current config name, where both fleets would otherwise share a key).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    fleet_id: str
    config_name: str
    variants: tuple[VariantSpec, ...] = Field(min_length=1)
    series_name: str | None = None
    """The EndpointConfigName its per-config metric series are recorded under, when not ``config_name``
    (the judge's baseline: a copy of blue's config whose samples must stay apart from blue's)."""

    @property
    def metrics_config(self) -> str:
        return self.series_name or self.config_name

    @property
    def total(self) -> int:
        return sum(v.instance_count for v in self.variants)

    @property
    def variant_names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variants)

    def counts(self) -> dict[str, int]:
        """Full capacity, per variant."""
        return {v.name: v.instance_count for v in self.variants}

    def zero(self) -> dict[str, int]:
        """No instances at all (the fleet stopped)."""
        return {v.name: 0 for v in self.variants}

    def weights(self) -> dict[str, float]:
        return {v.name: v.weight for v in self.variants}
