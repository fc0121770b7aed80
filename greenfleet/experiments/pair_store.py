"""The paired report's pairs in the store: what a report counted survives a restart of the server.

The router pairs the halves in memory (``pairs.PairCollector``); ``PairFlush`` moves complete pairs into
``experiment_pairs`` every second (a step of the control pass, and the ``greenfleet router`` process's
flusher), and the report drains the collector before it reads, so every pair a report has shown is in the
store. Bounded: at most ``max_pairs`` newest pairs per endpoint are kept (older ones are deleted as new ones
arrive), and pairs of endpoints that no longer exist are deleted once a minute. A crash loses at most the
pairs completed in the second before it that no report had read yet."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, delete, func, insert, select

from greenfleet.control.snapshot import Snapshot
from greenfleet.experiments.pairs import Pair, PairCollector
from greenfleet.experiments.tables import experiment_pairs
from greenfleet.router.mirror import Answer
from greenfleet.store.batches import write_batch
from greenfleet.store.schema import endpoints

log = logging.getLogger("greenfleet.experiments.pairs")
MAX_PAIRS = 20_000
PRUNE_EVERY_S = 60.0


def _meta(answer: Answer) -> dict[str, Any]:
    return {"variant": answer.variant_name, "config": answer.config_name, "outcome": answer.outcome,
            "status": answer.status, "content_type": answer.content_type, "latency_us": answer.model_latency_us}


def _answer(meta: dict[str, Any], body: bytes) -> Answer:
    return Answer(meta["variant"], meta["config"], meta["outcome"], int(meta["status"]), bytes(body),
                  meta["content_type"], meta["latency_us"])


class PairStore:
    def __init__(self, engine: Engine, max_pairs: int = MAX_PAIRS) -> None:
        self.engine, self.max_pairs = engine, max_pairs

    def add(self, pairs: list[Pair]) -> None:
        """Store pairs (one transaction) and keep only the newest ``max_pairs`` of each endpoint touched."""
        if not pairs:
            return
        c = experiment_pairs.c
        with self.engine.begin() as tx:
            tx.execute(insert(experiment_pairs), [{
                "endpoint_name": p.endpoint, "inference_id": p.inference_id, "at": p.at, "request": p.request,
                "content_type": p.content_type, "production": _meta(p.production),
                "production_body": p.production.body, "shadow_variant": p.shadow.variant_name,
                "shadow": _meta(p.shadow), "shadow_body": p.shadow.body} for p in pairs])
            for endpoint in {p.endpoint for p in pairs}:
                oldest_kept = tx.execute(select(c.seq).where(c.endpoint_name == endpoint).order_by(c.seq.desc())
                                         .offset(self.max_pairs - 1).limit(1)).scalar()
                if oldest_kept is not None:
                    tx.execute(delete(experiment_pairs).where(c.endpoint_name == endpoint, c.seq < oldest_kept))

    def pairs(self, endpoint: str, shadow_variant: str, since: float, until: float) -> list[Pair]:
        c = experiment_pairs.c
        query = select(experiment_pairs).where(c.endpoint_name == endpoint, c.shadow_variant == shadow_variant,
                                               c.at >= since, c.at <= until).order_by(c.seq)
        with self.engine.connect() as conn:
            return [Pair(r.endpoint_name, r.inference_id, r.at, bytes(r.request), r.content_type,
                         _answer(r.production, r.production_body), _answer(r.shadow, r.shadow_body))
                    for r in conn.execute(query)]

    def count(self, endpoint: str | None = None) -> int:
        query = select(func.count()).select_from(experiment_pairs)
        if endpoint is not None:
            query = query.where(experiment_pairs.c.endpoint_name == endpoint)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def prune(self, live_endpoints: Iterable[str] | None = None) -> int:
        """Delete the pairs of endpoints that no longer exist; how many."""
        c = experiment_pairs.c
        with self.engine.begin() as tx:
            names = (select(endpoints.c.name) if live_endpoints is None else list(live_endpoints))
            return int(tx.execute(delete(experiment_pairs).where(c.endpoint_name.not_in(names))).rowcount or 0)


class PairFlush:
    """Moves the collector's complete pairs into the store (a step of the control pass; run every second).
    A store that cannot be reached (a connection error) leaves the pairs in memory for the next try, within
    the collector's bounds. A batch the store refuses for its content (e.g. a request's Content-Type longer
    than the column holds, on PostgreSQL) is written one pair at a time: the refused pairs are logged, counted
    in the collector's ``unstored`` and not retried (given back, they would fail every later flush)."""

    name = "experiment-pairs"

    def __init__(self, collector: PairCollector, store: PairStore) -> None:
        self.collector, self.store = collector, store
        self.pruned_at = float("-inf")

    def run(self, snapshot: Snapshot) -> None:
        self.flush()
        if snapshot.now - self.pruned_at >= PRUNE_EVERY_S:
            self.pruned_at = snapshot.now
            self.store.prune()

    def flush(self) -> None:
        self.collector.count_unstored(write_batch(self.collector.drain(), self.store.add, self.collector.put_back,
                                                  lambda p: f"the pair of {p.inference_id} on {p.endpoint}"))
