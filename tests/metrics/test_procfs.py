"""CPU and memory of a live process read from /proc."""

from __future__ import annotations

import os
import time

from greenfleet.metrics.procfs import ProcessSampler


def test_samples_a_busy_process() -> None:
    sampler = ProcessSampler()
    assert sampler.sample(os.getpid(), time.time()) is None  # the first reading only primes
    start = time.time()
    while time.time() - start < 0.3:
        sum(range(10_000))
    usage = sampler.sample(os.getpid(), time.time())
    assert usage is not None
    assert 30.0 < usage.cpu_percent < 100.0 * (os.cpu_count() or 1) + 10
    assert 0.0 < usage.memory_percent < 100.0


def test_a_vanished_process_gives_nothing() -> None:
    assert ProcessSampler().sample(2**22 + 12345, time.time()) is None
