"""The frames of a pipeline's lane: how an inference pipeline's supervisor (``pipeline.py``) calls a member
worker over a Unix-domain socket instead of loopback HTTP (``lane_client.py``, ``lane_server.py``).

One request, then its answer, at a time on a connection. Each frame is a fixed head (a version byte, then the
big-endian byte lengths of what follows; an answer's head also holds its status) and the fields, in order::

    request: B version | I content type | I accept | I custom attributes | I inference id | I body
    answer:  B version | H status | I content type | I custom attributes | I body

Text fields are latin-1 (as HTTP header values are read); an empty one is an absent header. A head that
names another version, or a text field over ``MAX_TEXT_BYTES``, is a :class:`FrameError` (the connection is
dropped: its peer is not a lane).
"""

from __future__ import annotations

import struct
from typing import Generic, NamedTuple, TypeVar

__all__ = ["MAX_TEXT_BYTES", "VERSION", "AnswerReader", "FrameError", "LaneAnswer", "LaneRequest", "RequestReader",
           "encode_answer", "encode_request"]

VERSION = 1
MAX_TEXT_BYTES = 64 * 1024
"""Longest text field (a header value)."""

_REQUEST = struct.Struct("!BIIIII")
_ANSWER = struct.Struct("!BHIII")
_F = TypeVar("_F")


class FrameError(ValueError):
    """Bytes that are not a lane frame."""


class LaneRequest(NamedTuple):  # a tuple: made and read per call on both sides, cheaper than a dataclass
    content_type: str
    accept: str
    custom_attributes: str
    inference_id: str
    body: bytes


class LaneAnswer(NamedTuple):
    status: int
    content_type: str
    custom_attributes: str
    body: bytes


def encode_request(request: LaneRequest) -> bytes:
    texts = [request.content_type.encode("latin-1"), request.accept.encode("latin-1"),
             request.custom_attributes.encode("latin-1"), request.inference_id.encode("latin-1")]
    return b"".join([_REQUEST.pack(VERSION, *map(len, texts), len(request.body)), *texts, request.body])


def encode_answer(answer: LaneAnswer) -> bytes:
    content_type = answer.content_type.encode("latin-1")
    attributes = answer.custom_attributes.encode("latin-1")
    return b"".join([_ANSWER.pack(VERSION, answer.status, len(content_type), len(attributes), len(answer.body)),
                     content_type, attributes, answer.body])


class _Reader(Generic[_F]):
    """Cuts the bytes a connection receives into frames (whatever pieces they arrive in)."""

    _head: struct.Struct
    _texts: int
    """Text fields: the head's lengths before the body's."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._head_fields: tuple[int, ...] = ()  # the frame's head once read (else empty)
        self._size = 0  # the frame's whole size once its head is read (else 0)

    def feed(self, data: bytes | bytearray | memoryview) -> list[_F]:
        """The frames ``data`` completes (usually none or one). ``data`` is read before this returns (a
        receive buffer may be reused)."""
        buffer = self._buffer
        if not buffer and len(data) >= self._head.size and self._read_head(data) == len(data):
            frame = self._cut(data, self._head_fields)  # the usual case: one whole frame, cut from ``data``
            self._size = 0
            return [frame]
        buffer += data
        frames = []
        while True:
            if not self._size:
                if len(buffer) < self._head.size:
                    break
                self._read_head(buffer)
            if len(buffer) < self._size:
                break
            with memoryview(buffer) as view:
                frames.append(self._cut(view, self._head_fields))
            del buffer[:self._size]
            self._size = 0
        return frames

    def _read_head(self, data: bytes | bytearray | memoryview) -> int:
        """The frame's whole size, its head kept."""
        fields = self._head_fields = self._head.unpack_from(data)
        if fields[0] != VERSION:
            raise FrameError(f"not a lane frame (version {fields[0]}, expected {VERSION})")
        lengths = fields[-1 - self._texts:]
        if max(lengths[:-1]) > MAX_TEXT_BYTES:
            raise FrameError(f"a lane frame's text field is over {MAX_TEXT_BYTES} bytes")
        self._size = self._head.size + sum(lengths)
        return self._size

    def _cut(self, data: bytes | bytearray | memoryview, head: tuple[int, ...]) -> _F:
        """The frame at the start of ``data``, whose head is ``head``."""
        raise NotImplementedError


class RequestReader(_Reader[LaneRequest]):
    _head = _REQUEST
    _texts = 4

    def _cut(self, data: bytes | bytearray | memoryview, head: tuple[int, ...]) -> LaneRequest:
        _, content_type, accept, attributes, inference_id, body = head
        a = _REQUEST.size
        b = a + content_type
        c = b + accept
        d = c + attributes
        e = d + inference_id
        return LaneRequest(str(data[a:b], "latin-1"), str(data[b:c], "latin-1"), str(data[c:d], "latin-1"),
                           str(data[d:e], "latin-1"), bytes(data[e:e + body]))


class AnswerReader(_Reader[LaneAnswer]):
    _head = _ANSWER
    _texts = 2

    def _cut(self, data: bytes | bytearray | memoryview, head: tuple[int, ...]) -> LaneAnswer:
        _, status, content_type, attributes, body = head
        a = _ANSWER.size
        b = a + content_type
        c = b + attributes
        return LaneAnswer(status, str(data[a:b], "latin-1"), str(data[b:c], "latin-1"), bytes(data[c:c + body]))
