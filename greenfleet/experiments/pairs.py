"""Paired answers of production and shadow to the same requests, by inference id, for the comparison report.

The router hands each half over as it arrives (production after answering the caller, the shadow when
its copy returns; either may come first). A half waits at most ``max_pending`` others for its partner
(oldest dropped first, e.g. a shadow copy that was dropped or failed to connect); complete pairs are kept
per endpoint in a ring of ``max_pairs``. Memory is bounded: request bodies and answers are cut at
``max_body`` bytes. Pairs live in the server's memory: the report covers what this server saw since it
started (a restart empties it; data capture is the durable record)."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass

from greenfleet.router.mirror import Answer

MAX_BODY = 2048


@dataclass(frozen=True, slots=True)
class Pair:
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
    """A ``PairSink`` (greenfleet.router.mirror) that keeps the last complete pairs of every endpoint."""

    def __init__(self, max_pairs: int = 20_000, max_pending: int = 10_000, max_body: int = MAX_BODY) -> None:
        self.max_pairs, self.max_pending, self.max_body = max_pairs, max_pending, max_body
        self._lock = threading.Lock()
        self._pending: OrderedDict[tuple[str, str], _Half] = OrderedDict()
        self._pairs: dict[str, deque[Pair]] = {}
        self.unpaired = 0
        """Halves dropped while waiting for their partner."""

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

    def pairs(self, endpoint: str, since: float = float("-inf")) -> list[Pair]:
        with self._lock:
            return [p for p in self._pairs.get(endpoint, ()) if p.at >= since]

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
        ring = self._pairs.get(endpoint)
        if ring is None:
            ring = self._pairs[endpoint] = deque(maxlen=self.max_pairs)
        ring.append(Pair(inference_id, half.at, half.request, half.content_type, half.production, half.shadow))
