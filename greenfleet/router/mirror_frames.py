"""The wire format between the router and its mirror process (``mirror_process``), both ways one pipe of
frames; every frame starts with the kind byte and the body's length (u32, little-endian), so a reader
takes whole frames from whatever one read returned (``split``), many per system call:

- ``C`` COPY (router → mirror process): u64 copy id, u16 port, u8 whether the answer's body is wanted,
  u16 host length, the host, then the production request's serialised bytes (``upstream.request``: its
  headers and body; the mirror process adds the request line);
- ``A`` ANSWER (mirror process → router): u64 copy id, u8 how it ended (``ANSWERED``, ``TIMED_OUT``,
  ``UNREACHABLE``), u16 HTTP status, f64 model latency in µs (NaN: none), u16 Content-Type length
  (0xFFFF: none), u32 body length, then those bytes (empty when the router did not want the body).

Pure: no I/O."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

from greenfleet.pipeframes import HEAD as HEAD
from greenfleet.pipeframes import split as split

COPY_HEAD = struct.Struct("<BIQHBH")
"""kind, body length, copy id, port, wants the body, host length"""
COPY_FIXED = COPY_HEAD.size - HEAD.size
ANSWER_HEAD = struct.Struct("<BIQBHdHI")
"""kind, body length, copy id, how it ended, status, model latency µs, Content-Type length, body length"""
ANSWER_FIXED = ANSWER_HEAD.size - HEAD.size
COPY, ANSWER = ord("C"), ord("A")
ANSWERED, TIMED_OUT, UNREACHABLE = 0, 1, 2
NO_TYPE = 0xFFFF
_copy_body = struct.Struct("<QHBH")
_answer_body = struct.Struct("<QBHdHI")
_answer_start = struct.Struct("<QBHd").unpack_from


@dataclass(frozen=True, slots=True)
class CopyFrame:
    copy_id: int
    host: str
    port: int
    wants_body: bool
    serialised: bytes


@dataclass(frozen=True, slots=True)
class AnswerFrame:
    copy_id: int
    ended: int
    """``ANSWERED``, ``TIMED_OUT`` or ``UNREACHABLE``"""
    status: int
    model_latency_us: float | None
    content_type: str | None
    body: bytes


def copy_frame(copy_id: int, host: bytes, port: int, wants_body: bool, serialised: bytes) -> bytes:
    """``host`` encoded already (the router keeps it per instance)."""
    length = COPY_FIXED + len(host) + len(serialised)
    return b"".join((COPY_HEAD.pack(COPY, length, copy_id, port, wants_body, len(host)), host, serialised))


def parse_copy(body: memoryview) -> CopyFrame:
    copy_id, port, wants_body, host_length = _copy_body.unpack_from(body)
    start = COPY_FIXED + host_length
    return CopyFrame(copy_id, bytes(body[COPY_FIXED:start]).decode("latin-1"), port, bool(wants_body),
                     bytes(body[start:]))


def answer_frame(copy_id: int, ended: int, status: int, model_latency_us: float | None,
                 content_type: str | None, body: bytes) -> bytes:
    text = b"" if content_type is None else content_type.encode("latin-1")[:NO_TYPE - 1]
    type_length = NO_TYPE if content_type is None else len(text)
    latency = math.nan if model_latency_us is None else model_latency_us
    length = ANSWER_FIXED + len(text) + len(body)
    head = ANSWER_HEAD.pack(ANSWER, length, copy_id, ended, status, latency, type_length, len(body))
    return b"".join((head, text, body))


def parse_answer(body: memoryview) -> AnswerFrame:
    copy_id, ended, status, latency, type_length, body_length = _answer_body.unpack_from(body)
    start = ANSWER_FIXED
    content_type = None
    if type_length != NO_TYPE:
        content_type = bytes(body[start:start + type_length]).decode("latin-1")
        start += type_length
    return AnswerFrame(copy_id, ended, status, None if math.isnan(latency) else latency, content_type,
                       bytes(body[start:start + body_length]))


def answer_start(body: memoryview) -> tuple[int, int, int, float]:
    """(copy id, how it ended, status, model latency µs or NaN) of an ANSWER body, without its bytes."""
    return _answer_start(body)


class FrameReader:
    """Frames from a byte stream that arrives in arbitrary pieces (what one ``read`` returned each)."""

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[tuple[int, memoryview]]:
        buffer = self._pending + data if self._pending else data
        frames, used = split(buffer)
        self._pending = bytes(buffer[used:])
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._pending)
