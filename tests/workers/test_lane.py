"""The lane's frames (pure) and the slots its threads share with the HTTP app's model threads."""

from __future__ import annotations

import threading

import pytest

from greenfleet.clock import FakeClock
from greenfleet.workers.lane import (
    MAX_TEXT_BYTES,
    AnswerReader,
    FrameError,
    LaneAnswer,
    LaneRequest,
    RequestReader,
    encode_answer,
    encode_request,
)
from greenfleet.workers.slots import Slots

REQUEST = LaneRequest("text/csv", "application/json", "trace=1", "id-7", b"1,2,3\n4,5,6")
ANSWER = LaneAnswer(415, "text/plain; charset=utf-8", "", b"\x00\xffbinary")


def test_a_request_and_an_answer_read_back_as_written() -> None:
    assert RequestReader().feed(encode_request(REQUEST)) == [REQUEST]
    assert AnswerReader().feed(encode_answer(ANSWER)) == [ANSWER]
    empty = LaneRequest("", "", "", "", b"")
    assert RequestReader().feed(encode_request(empty)) == [empty]
    latin = LaneRequest("text/plain; charset=\xe9", "", "", "", b"x")  # header values are latin-1
    assert RequestReader().feed(memoryview(encode_request(latin))) == [latin]


def test_frames_are_cut_whatever_pieces_the_bytes_arrive_in() -> None:
    second = LaneRequest("application/json", "", "", "", b'{"a": 1}' * 1000)
    data = encode_request(REQUEST) + encode_request(second)
    for size in (1, 3, 17, 4096, len(data)):
        reader = RequestReader()
        frames = []
        for at in range(0, len(data), size):
            frames += reader.feed(data[at:at + size])
        assert frames == [REQUEST, second], size


def test_a_receive_buffer_may_be_reused_once_fed() -> None:
    buffer = bytearray(encode_answer(ANSWER))
    reader = AnswerReader()
    (frame,) = reader.feed(memoryview(buffer)[:10]) + reader.feed(memoryview(buffer)[10:])
    buffer[:] = b"\x00" * len(buffer)
    assert frame == ANSWER


def test_bytes_that_are_not_a_lane_frame_are_refused() -> None:
    data = bytearray(encode_request(REQUEST))
    data[0] = 2
    with pytest.raises(FrameError, match="version 2"):
        RequestReader().feed(bytes(data))
    huge = LaneRequest("x" * (MAX_TEXT_BYTES + 1), "", "", "", b"")
    with pytest.raises(FrameError, match="text field"):
        RequestReader().feed(encode_request(huge)[:30])  # refused from its head, before the rest arrives


def test_slots_admit_up_to_the_concurrency_and_count_an_abandoned_call_out() -> None:
    clock = FakeClock(0.0)
    slots = Slots(2, timeout_s=5.0, spare=1, clock=clock.now)
    first, second = slots.try_enter(), slots.try_enter()
    assert first is not None and second is not None
    assert slots.try_enter() is None
    clock.set(5.5)  # both abandoned: they stop counting, but only `spare` of them may run on beside new ones
    third = slots.try_enter()
    assert third is not None
    assert slots.try_enter() is None  # 2 live would be allowed, but 3 running is concurrency + spare
    slots.leave(first)
    slots.leave(first)  # a second leave is ignored
    assert slots.try_enter() is not None
    assert slots.running == 3


def test_a_slot_that_never_expires_is_held_until_left() -> None:
    clock = FakeClock(0.0)
    slots = Slots(1, timeout_s=1.0, clock=clock.now)
    held = slots.try_enter(expires=False)
    clock.set(100.0)
    assert slots.try_enter() is None
    assert held is not None
    slots.leave(held)
    assert slots.try_enter() is not None


def test_a_waiting_thread_enters_when_a_call_leaves() -> None:
    slots = Slots(1)
    held = slots.try_enter()
    assert held is not None
    entered = threading.Event()
    waiter = threading.Thread(target=lambda: (slots.enter(), entered.set()))
    waiter.start()
    assert not entered.wait(0.05)
    slots.leave(held)
    assert entered.wait(5)
    waiter.join(5)


def test_a_waiting_thread_enters_when_the_running_call_is_abandoned() -> None:
    slots = Slots(1, timeout_s=0.05)
    assert slots.try_enter() is not None  # never left: it is abandoned after 0.05 s
    entered = threading.Event()
    waiter = threading.Thread(target=lambda: (slots.enter(), entered.set()))
    waiter.start()
    assert entered.wait(5)
    waiter.join(5)


def test_a_thread_that_finds_no_slot_within_its_wait_gives_up() -> None:
    slots = Slots(1, timeout_s=None)
    assert slots.try_enter() is not None  # held for good (no timeout: never abandoned)
    assert slots.enter(wait_s=0.05) is None
