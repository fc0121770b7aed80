"""Picks an instance inside a target: least outstanding requests (SageMaker's default) or random."""

from __future__ import annotations

from random import Random

from greenfleet.router.table import InstanceAddress, Target


class Outstanding:
    """In-flight request counts per instance, touched only from the router's event loop; the control
    plane reads them (a dict read) to know when a draining instance is idle."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.peaks: dict[str, int] = {}
        """The most requests in flight per instance since ``take_peaks`` (ConcurrentRequestsPerModel)."""

    def acquire(self, instance_id: str) -> None:
        count = self.counts[instance_id] = self.counts.get(instance_id, 0) + 1
        if count > self.peaks.get(instance_id, 0):
            self.peaks[instance_id] = count

    def take_peaks(self) -> dict[str, int]:
        """Each instance's peak of requests in flight since the last call (at least what is in flight now);
        called from the control plane once a second (a lost update costs one sample, never a request)."""
        peaks, self.peaks = self.peaks, {}
        for instance_id, count in list(self.counts.items()):
            peaks[instance_id] = max(peaks.get(instance_id, 0), count)
        return peaks

    def release(self, instance_id: str) -> None:
        left = self.counts.get(instance_id, 1) - 1
        if left <= 0:
            self.counts.pop(instance_id, None)
        else:
            self.counts[instance_id] = left

    def of(self, instance_id: str) -> int:
        return self.counts.get(instance_id, 0)


def pick_instance(
    target: Target, outstanding: Outstanding, rng: Random, exclude: frozenset[str] = frozenset()
) -> InstanceAddress | None:
    if not exclude and len(target.instances) == 1:  # the common case: nothing to choose
        return target.instances[0]
    candidates = [i for i in target.instances if i.instance_id not in exclude]
    if not candidates:
        return None
    if len(candidates) == 1:
        return candidates[0]
    if target.strategy == "RANDOM":
        return rng.choice(candidates)
    least = min(outstanding.of(i.instance_id) for i in candidates)
    return rng.choice([i for i in candidates if outstanding.of(i.instance_id) == least])
