"""The router ↔ mirror process wire format, and the batching on both sides of it: frames survive any cut of
the byte stream, the mirror process writes all answers of one loop pass at once, and the router takes a
batch of answers (recorded, paired, places freed) and counts a dead mirror process's copies dropped."""

from __future__ import annotations

import asyncio
import math
import os
from random import Random

import pytest

from greenfleet.router import mirror as mirror_module
from greenfleet.router.balancer import Outstanding
from greenfleet.router.mirror import Mirror
from greenfleet.router.mirror_frames import (
    ANSWER,
    ANSWERED,
    COPY,
    TIMED_OUT,
    UNREACHABLE,
    FrameReader,
    answer_frame,
    copy_frame,
    parse_answer,
    parse_copy,
    split,
)
from greenfleet.router.mirror_process import Sender
from greenfleet.router.table import EndpointRoute, InstanceAddress, Shadow, Target
from greenfleet.router.upstream import Upstream, request
from tests.router.mirror_doubles import Pairs, Recorded


def test_a_copy_frame_carries_the_address_the_body_wish_and_the_request_bytes() -> None:
    serialised = request(b"1,2,3", {"Content-Type": "text/csv"})
    frames, _ = split(copy_frame(7, b"127.0.0.1", 8081, True, serialised))
    assert len(frames) == 1 and frames[0][0] == COPY
    copy = parse_copy(frames[0][1])
    assert (copy.copy_id, copy.host, copy.port, copy.wants_body, copy.serialised) == (
        7, "127.0.0.1", 8081, True, serialised)


def test_an_answer_frame_with_and_without_type_body_and_latency() -> None:
    data = (answer_frame(1, ANSWERED, 200, 812.5, "text/csv", b"0.25")
            + answer_frame(2, TIMED_OUT, 504, 2e6, None, b"")
            + answer_frame(3, UNREACHABLE, 503, None, None, b""))
    frames, used = split(data)
    assert used == len(data) and [kind for kind, _ in frames] == [ANSWER] * 3
    first, second, third = (parse_answer(body) for _, body in frames)
    assert (first.copy_id, first.ended, first.status, first.model_latency_us, first.content_type, first.body) == (
        1, ANSWERED, 200, 812.5, "text/csv", b"0.25")
    assert (second.ended, second.status, second.content_type, second.body) == (TIMED_OUT, 504, None, b"")
    assert third.model_latency_us is None and not math.isnan(second.model_latency_us or math.nan)


def test_frames_cut_anywhere_come_out_whole_and_in_order() -> None:
    data = b"".join(copy_frame(n, b"h", n, n % 2 == 0, b"x" * n * 37) for n in range(1, 40))
    for piece in (1, 3, 64, 1000, len(data)):
        reader, ids = FrameReader(), []
        for at in range(0, len(data), piece):
            ids += [parse_copy(body).copy_id for _, body in reader.feed(data[at:at + piece])]
        assert ids == list(range(1, 40)) and reader.pending == 0


def test_the_mirror_process_writes_the_answers_of_one_loop_pass_with_one_write() -> None:
    async def scenario() -> list[bytes]:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        sender = Sender(Upstream(1.0), write_end, 1.0)
        copies = [type("C", (), {"copy_id": n, "wants_body": n == 2})() for n in (1, 2, 3)]
        for copy in copies:  # three copies ended in one pass of the loop
            sender.answer(copy, ANSWERED, 200, 10.0, "text/csv", b"body")  # type: ignore[arg-type]
        reads = []
        assert sender.answers and _read_all(read_end) == b""  # nothing written yet
        await asyncio.sleep(0)
        reads.append(_read_all(read_end))
        await asyncio.sleep(0)
        reads.append(_read_all(read_end))
        os.close(read_end)
        os.close(write_end)
        return reads

    first, second = asyncio.run(scenario())
    frames, used = split(first)
    answers = [parse_answer(body) for _, body in frames]
    assert used == len(first) and second == b""
    assert [(a.copy_id, a.body, a.content_type) for a in answers] == [
        (1, b"", None), (2, b"body", "text/csv"), (3, b"", None)]  # the body only where it is kept


def _read_all(fd: int) -> bytes:
    try:
        return os.read(fd, 1 << 16)
    except BlockingIOError:
        return b""


class FakeLink:
    """The mirror process's end, kept in the test: the frames offered, and a switch for ``ready``."""

    def __init__(self) -> None:
        self.frames: list[bytes] = []
        self.up = True
        self.pid = None
        self.killed = 0

    def ready(self) -> bool:
        return self.up

    def offer(self, frame: bytes) -> bool:
        self.frames.append(frame)
        return True

    def kill(self) -> None:
        self.killed += 1

    async def close(self) -> None:
        return None


def _mirror(max_in_flight: int = 8) -> tuple[Mirror, FakeLink, Recorded, Pairs, EndpointRoute]:
    recorder, pairs, link = Recorded(), Pairs(), FakeLink()
    mirror = Mirror(Upstream(1.0), Outstanding(), recorder, Random(0), lambda: 1000.0, max_in_flight)
    mirror.link = link  # type: ignore[assignment]
    mirror.sink = pairs
    prod = Target("prod", "cfg", 1.0, "LEAST_OUTSTANDING_REQUESTS", (InstanceAddress("p-1", "127.0.0.1", 1),))
    shadow = Target("shadow", "cfg", 1.0, "LEAST_OUTSTANDING_REQUESTS", (InstanceAddress("s-1", "127.0.0.1", 2),))
    return mirror, link, recorder, pairs, EndpointRoute("ep", (prod,), (Shadow(shadow, 100.0, "prod", paired=True),))


def test_the_router_takes_a_batch_of_answers_records_pairs_and_frees_their_places() -> None:
    mirror, link, recorder, pairs, route = _mirror()
    for n in range(3):
        assert mirror.send("ep", route, "prod", b"1,2", {"Content-Type": "text/csv"}, f"id-{n}")
    assert mirror.in_flight == {"ep": 3} and mirror.outstanding.counts == {"s-1": 3}
    copies = [parse_copy(split(frame)[0][0][1]) for frame in link.frames]
    assert [c.wants_body for c in copies] == [True] * 3 and {(c.host, c.port) for c in copies} == {("127.0.0.1", 2)}
    batch = answer_frame(copies[0].copy_id, ANSWERED, 200, 500.0, "text/csv", b"a") \
        + answer_frame(copies[2].copy_id, TIMED_OUT, 504, 1e6, None, b"")
    mirror._answers([body for _, body in split(batch)[0]])
    assert recorder.invocations == [("shadow", "s-1", "ok", 500.0), ("shadow", "s-1", "model_error_5xx", 1e6)]
    assert pairs.shadows["id-0"].body == b"a" and pairs.shadows["id-2"].status == 504
    assert mirror.in_flight == {"ep": 1} and mirror.outstanding.counts == {"s-1": 1}
    mirror._lost()  # the mirror process died with the second copy
    assert recorder.dropped == ["shadow"] and mirror.dropped == 1
    assert mirror.in_flight == {} and mirror.outstanding.counts == {}


def test_copies_beyond_the_in_flight_limit_or_with_the_mirror_process_down_are_dropped_and_counted() -> None:
    mirror, link, recorder, _, route = _mirror(max_in_flight=2)
    for n in range(3):
        mirror.send("ep", route, "prod", b"1", {}, f"id-{n}")
    assert len(link.frames) == 2 and mirror.sent == 2 and mirror.dropped == 1
    link.up = False  # restarting after a crash: nothing is queued meanwhile
    mirror._lost()
    mirror.send("ep", route, "prod", b"1", {}, "id-3")
    assert len(link.frames) == 2 and mirror.dropped == 4 and recorder.dropped == ["shadow"] * 4
    assert mirror.in_flight == {}


def test_a_mirror_process_that_leaves_copies_unanswered_past_the_timeout_is_ended(
        monkeypatch: pytest.MonkeyPatch) -> None:
    mirror, link, _, _, route = _mirror(max_in_flight=1)
    mirror.send("ep", route, "prod", b"1", {}, "id-0")
    mirror.send("ep", route, "prod", b"1", {}, "id-1")  # full, but the first copy is young
    assert link.killed == 0
    monkeypatch.setattr(mirror_module, "STUCK_S", -1.0)  # (the upstream's timeout is 1 s: any copy is old)
    mirror.send("ep", route, "prod", b"1", {}, "id-2")
    assert link.killed == 1 and mirror.dropped == 2
