"""The event loop's group committer on a real store (SQLite and PostgreSQL): concurrent enqueues share
transactions, each caller returns only once its row is committed, and a reused InferenceId fails only its
own request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from greenfleet.asyncinference.committer import LoopCommitter
from greenfleet.asyncinference.queue import Queue, Ticket
from greenfleet.asyncinference.tables import async_requests
from greenfleet.errors import ValidationError
from greenfleet.store.database import create_store_engine, migrate


def _row(inference_id: str) -> dict[str, Any]:
    return {"endpoint_name": "ep", "inference_id": inference_id, "input_location": "", "body": b"1,2",
            "content_type": "text/csv", "accept": None, "custom_attributes": None,
            "output_location": f"file:///out/{inference_id}.out", "failure_location": "file:///fail",
            "notification": None, "invocation_timeout_s": 900.0, "created_at": 1.0, "expires_at": 100.0}


class CountingQueue(Queue):
    def __init__(self, url: str) -> None:
        engine = create_store_engine(url)
        migrate(engine)
        super().__init__(engine)
        self.batches: list[int] = []

    def write(self, batch: list[Ticket]) -> None:
        self.batches.append(len(batch))
        super().write(batch)

    def committed(self, inference_id: str) -> bool:
        with self.engine.connect() as conn:
            return bool(conn.execute(select(func.count()).where(async_requests.c.inference_id == inference_id))
                        .scalar_one())


def test_concurrent_enqueues_share_transactions_and_return_once_committed(database_url: str) -> None:
    queue = CountingQueue(database_url)
    woken: list[int] = []
    committer = LoopCommitter(queue, lambda: woken.append(1))

    async def one(inference_id: str) -> bool:
        await committer.add(_row(inference_id))
        return queue.committed(inference_id)  # committed by the time the caller hears back

    async def main() -> list[bool]:
        return await asyncio.gather(*(one(f"r-{i}") for i in range(60)))

    try:
        assert asyncio.run(main()) == [True] * 60
    finally:
        committer.close()
    assert sum(queue.batches) == 60 and len(queue.batches) < 30  # group commits, not one per request
    assert woken  # the dispatcher is woken after a committed batch


def test_a_reused_inference_id_fails_only_its_own_request(database_url: str) -> None:
    queue = CountingQueue(database_url)
    committer = LoopCommitter(queue)

    async def main() -> list[BaseException | None]:
        await committer.add(_row("taken"))
        results = await asyncio.gather(*(committer.add(_row(i)) for i in ("a", "taken", "b")),
                                       return_exceptions=True)
        return list(results)

    try:
        first, reused, second = asyncio.run(main())
    finally:
        committer.close()
    assert first is None and second is None
    assert isinstance(reused, ValidationError) and "InferenceId taken is already in use" in reused.message
    assert queue.committed("a") and queue.committed("b")
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(committer.add(_row("late")))
