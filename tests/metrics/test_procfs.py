"""CPU and memory of a live process read from /proc."""

from __future__ import annotations

import os
import time

from greenfleet.metrics.procfs import ProcessSampler


def test_samples_a_busy_process() -> None:
    sampler = ProcessSampler()
    started, cpu_started = time.time(), time.process_time()
    assert sampler.sample(os.getpid(), started) is None  # the first reading only primes
    while time.process_time() - cpu_started < 0.3:  # 0.3 s of CPU, however long a loaded machine takes
        sum(range(10_000))
    ended = time.time()
    usage = sampler.sample(os.getpid(), ended)
    expected = 100.0 * (time.process_time() - cpu_started) / (ended - started)
    assert usage is not None
    assert 0.7 * expected < usage.cpu_percent < 100.0 * (os.cpu_count() or 1) + 10, (usage, expected)
    assert 0.0 < usage.memory_percent < 100.0


def test_a_vanished_process_gives_nothing() -> None:
    assert ProcessSampler().sample(2**22 + 12345, time.time()) is None
