"""Body-read deadlines kept by one sweep (greenfleet/api/read_deadlines.py), on a real event loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from greenfleet.api.read_deadlines import ReadDeadlines, ReadTimedOut
from greenfleet.types import Message, Receive


def _arriving_after(delay_s: float | None) -> Receive:
    async def receive() -> Message:
        if delay_s is None:
            await asyncio.Event().wait()  # a client that never sends the rest
        else:
            await asyncio.sleep(delay_s)
        return {"type": "http.request", "body": b"done", "more_body": False}

    return receive


def test_a_body_that_arrives_is_returned_and_nothing_is_left_waiting() -> None:
    deadlines = ReadDeadlines(0.2)

    async def main() -> Message:
        return await deadlines.receive(_arriving_after(0.01))

    assert asyncio.run(main())["body"] == b"done"
    assert deadlines._waiting == {} and deadlines._expired == set()


def test_a_body_that_never_arrives_times_out_within_the_sweep_interval() -> None:
    deadlines = ReadDeadlines(0.2)

    async def main() -> float:
        started = time.monotonic()
        with pytest.raises(ReadTimedOut):
            await deadlines.receive(_arriving_after(None))
        return time.monotonic() - started

    waited = asyncio.run(main())
    assert 0.2 <= waited < 0.2 + deadlines.interval_s + 0.5, waited
    assert deadlines._waiting == {} and deadlines._expired == set()


def test_only_the_stale_read_times_out_and_the_task_is_not_left_cancelled() -> None:
    deadlines = ReadDeadlines(0.3)

    async def read(delay_s: float | None) -> str:
        try:
            message = await deadlines.receive(_arriving_after(delay_s))
        except ReadTimedOut:
            await asyncio.sleep(0.01)  # the task goes on normally: its cancellation was taken back
            return "timed out"
        return bytes(message["body"]).decode()

    async def main() -> list[str]:
        return list(await asyncio.gather(read(None), read(0.1), read(0.05)))

    assert asyncio.run(main()) == ["timed out", "done", "done"]


def test_a_cancellation_from_elsewhere_is_not_taken_for_a_timeout() -> None:
    deadlines = ReadDeadlines(5.0)

    async def main() -> None:
        task = asyncio.create_task(deadlines.receive(_arriving_after(None)))
        await asyncio.sleep(0.05)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert deadlines._waiting == {}
