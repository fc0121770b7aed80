"""Paired answers of production and shadow to the same requests, by inference id, for the comparison report.

The router hands each half over as it arrives (production after answering the caller, the shadow when
its copy returns; either may come first). A half waits at most ``max_pending`` others for its partner
(oldest dropped first, e.g. a shadow copy that was dropped or failed to connect); complete pairs wait in an
outbox of at most ``max_outbox`` until the store takes them (``drain``, every second and before a report is
read: ``experiments/pair_store.py``); beyond it a pair is dropped and counted (``unstored``). Memory is
bounded: request bodies and answers are cut at ``max_body`` bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from greenfleet.router.mirror import Answer

MAX_BODY = 2048


@dataclass(frozen=True, slots=True)
class Pair:
    endpoint: str
    inference_id: str
    at: float
    request: bytes
    content_type: str | None
    production: Answer
    shadow: Answer


@dataclass(slots=True)
class _Half:
    at: float
    request: bytes = b""
    content_type: str | None = None
    production: Answer | None = None
    shadow: Answer | None = None


def _cut(answer: Answer, limit: int) -> Answer:
    if len(answer.body) <= limit:
        return answer
    return Answer(answer.variant_name, answer.config_name, answer.outcome, answer.status, answer.body[:limit],
                  answer.content_type, answer.model_latency_us)


class PairCollector:
    """A ``PairSink`` (greenfleet.router.mirror) that pairs the halves and hands complete pairs to the store."""

    def __init__(self, max_outbox: int = 20_000, max_pending: int = 10_000, max_body: int = MAX_BODY) -> None:
        self.max_outbox, self.max_pending, self.max_body = max_outbox, max_pending, max_body
        self._lock = threading.Lock()
        self._pending: OrderedDict[tuple[str, str], _Half] = OrderedDict()
        self._outbox: list[Pair] = []
        self.unpaired = 0
        """Halves dropped while waiting for their partner."""
        self.unstored = 0
        """Complete pairs dropped because the outbox was full (the store did not take them in time) or the
        store refused them."""

    def production(self, endpoint: str, inference_id: str, request: bytes, content_type: str | None,
                   answer: Answer, now: float) -> None:
        with self._lock:
            half = self._half(endpoint, inference_id, now)
            half.request, half.content_type = request[: self.max_body], content_type
            half.production = _cut(answer, self.max_body)
            self._complete(endpoint, inference_id, half)

    def shadow(self, endpoint: str, inference_id: str, answer: Answer, now: float) -> None:
        with self._lock:
            half = self._half(endpoint, inference_id, now)
            half.shadow = _cut(answer, self.max_body)
            self._complete(endpoint, inference_id, half)

    def drain(self) -> list[Pair]:
        """The complete pairs not yet handed over, oldest first (the store's writer takes them)."""
        with self._lock:
            pairs, self._outbox = self._outbox, []
        return pairs

    def put_back(self, pairs: list[Pair]) -> None:
        """Pairs the store could not take, kept for the next try (oldest dropped beyond the bound)."""
        with self._lock:
            merged = pairs + self._outbox
            self.unstored += max(len(merged) - self.max_outbox, 0)
            self._outbox = merged[-self.max_outbox:]

    def count_unstored(self, pairs: int) -> None:
        """Pairs the store refused (dropped)."""
        with self._lock:
            self.unstored += pairs

    def _half(self, endpoint: str, inference_id: str, now: float) -> _Half:
        key = (endpoint, inference_id)
        half = self._pending.get(key)
        if half is None:
            half = self._pending[key] = _Half(now)
            while len(self._pending) > self.max_pending:
                self._pending.popitem(last=False)
                self.unpaired += 1
        return half

    def _complete(self, endpoint: str, inference_id: str, half: _Half) -> None:
        if half.production is None or half.shadow is None:
            return
        del self._pending[(endpoint, inference_id)]
        if len(self._outbox) >= self.max_outbox:
            self.unstored += 1
            return
        self._outbox.append(Pair(endpoint, inference_id, half.at, half.request, half.content_type,
                                 half.production, half.shadow))
