"""The immutable routing table the data plane serves from."""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field
from random import Random

from greenfleet.capture.config import CaptureSetting


@dataclass(frozen=True)
class InstanceAddress:
    instance_id: str
    host: str
    port: int


@dataclass(frozen=True)
class Target:
    """One variant of one fleet (endpoint config) with its ready instances."""

    variant_name: str
    config_name: str
    weight: float
    strategy: str  # LEAST_OUTSTANDING_REQUESTS | RANDOM
    instances: tuple[InstanceAddress, ...]
    async_concurrency: int = 0
    """An asynchronous fleet's MaxConcurrentInvocationsPerInstance (its instances take only the async
    dispatcher's requests); 0 for a real-time one."""
    container_hostnames: tuple[str, ...] = ()
    """A Direct-mode inference pipeline's containers (X-Amzn-SageMaker-Target-Container-Hostname picks one);
    empty for every other model."""
    max_concurrency: int | None = None
    """A serverless variant's MaxConcurrency (None: instance-based). A serverless target takes requests with
    no instance ready: the router holds them through the cold start."""

    @property
    def takes_requests(self) -> bool:
        return bool(self.instances) or self.max_concurrency is not None


@dataclass(frozen=True)
class Shadow:
    """A shadow variant: a copy of ``sampling_percentage`` percent of the requests that ``source_variant``
    answers (every production variant's when None) goes to ``target``."""

    target: Target
    sampling_percentage: float
    source_variant: str | None = None
    paired: bool = False
    """Hand both answers to the pair sink (an inference experiment's report compares them)."""
    capture: CaptureSetting | None = None
    """Capture the shadow's requests and answers (a config's DataCaptureConfig, or an experiment's
    DataStorageConfig, which captures the production answers of mirrored requests too)."""

    def wants(self, production_variant: str, draw: float) -> bool:
        """Whether a request the production variant answers is mirrored; ``draw`` uniform in [0, 1)."""
        if self.source_variant is not None and self.source_variant != production_variant:
            return False
        return bool(self.target.instances) and draw * 100.0 < self.sampling_percentage


@dataclass(frozen=True)
class EndpointRoute:
    name: str
    targets: tuple[Target, ...]
    shadows: tuple[Shadow, ...] = ()
    """Shadow variants: each gets a copy of a sample of the requests; their answers are never returned."""
    record_assignments: bool = False
    """Record which variant answered each inference id (the endpoint is under an A/B test)."""
    capture: CaptureSetting | None = None
    """The endpoint's DataCaptureConfig while capture is enabled."""
    _serving: tuple[Target, ...] = field(init=False, repr=False, compare=False)
    _cumulative: tuple[float, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        serving = tuple(t for t in self.targets if t.weight > 0 and t.takes_requests)
        object.__setattr__(self, "_serving", serving)
        object.__setattr__(self, "_cumulative", tuple(itertools.accumulate(t.weight for t in serving)))

    def has_variant(self, variant_name: str) -> bool:
        return any(t.variant_name == variant_name for t in self.targets)

    def choose(self, rng: Random, variant_name: str | None = None) -> Target | None:
        """Weighted choice by current weight among targets that have ready instances; with
        ``variant_name`` (X-Amzn-SageMaker-Target-Variant) only that variant's targets count."""
        if variant_name is not None:
            named = [t for t in self.targets if t.variant_name == variant_name and t.takes_requests]
            if not named:
                return None
            if len(named) == 1:
                return named[0]
            weights = [max(t.weight, 1e-9) for t in named]
            return rng.choices(named, weights=weights)[0]
        if not self._serving:
            return None
        point = rng.random() * self._cumulative[-1]
        index = bisect.bisect_right(self._cumulative, point)
        return self._serving[min(index, len(self._serving) - 1)]


@dataclass(frozen=True)
class RoutingTable:
    revision: int
    endpoints: dict[str, EndpointRoute]

    def get(self, name: str) -> EndpointRoute | None:
        return self.endpoints.get(name)

    def healthy_counts(self) -> dict[tuple[str, str, str], int]:
        """Ready instances per (endpoint, variant, config) in this table."""
        counts: dict[tuple[str, str, str], int] = {}
        for route in self.endpoints.values():
            for target in route.targets + tuple(s.target for s in route.shadows):
                key = (route.name, target.variant_name, target.config_name)
                counts[key] = counts.get(key, 0) + len(target.instances)
        return counts


EMPTY_TABLE = RoutingTable(revision=0, endpoints={})
