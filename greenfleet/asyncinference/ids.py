"""Random version-4 UUIDs for request and inference ids, without a system call each: ``uuid.uuid4`` reads
``os.urandom`` per id, a measurable share of InvokeEndpointAsync's CPU at thousands of requests a second
(about 10 % under load). These ids need uniqueness, not secrecy: a generator seeded once from ``os.urandom``
is enough (a reused InferenceId would be refused by the queue's unique constraint, never overwritten)."""

from __future__ import annotations

import os
import random
import uuid

_rng = random.Random(os.urandom(32))


def new_id() -> str:
    return str(uuid.UUID(int=_rng.getrandbits(128), version=4))


os.register_at_fork(after_in_child=lambda: _rng.seed(os.urandom(32)))  # a forked child never repeats its parent
