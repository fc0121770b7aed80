"""The capture hand-off's wire format. The serving process frames each sampled invocation as raw bytes into
a pipe to its capture-writer process (``writer_process``); that process encodes SageMaker's records and
writes them. Every frame starts with a kind byte and the body's length (u32, little-endian):

- ``S`` STREAM: u32 stream id and a JSON object (the CaptureSetting, endpoint, variant and the two content
  types): sent once, before the first record of the stream;
- ``R`` RECORD: u32 stream id, f64 invocation time (epoch seconds), the lengths of the inference id (u16,
  0xFFFF for none), the request and the response (u32 each), then those bytes;
- ``F`` FLUSH: u64 sequence number: write everything received before it now, then confirm it;
- ``X`` RESET: forget every stream (the serving side cleared its table).

The writer process answers on a second pipe with one JSON line (``Status``) after each write pass."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from greenfleet.capture.config import CaptureSetting
from greenfleet.pipeframes import HEAD as HEAD
from greenfleet.pipeframes import split as split

RECORD_HEAD = struct.Struct("<BIIdHII")
"""kind, body length, stream id, time, inference-id length, request length, response length"""
RECORD_FIXED = RECORD_HEAD.size - HEAD.size
STREAM_ID = struct.Struct("<I")
SEQUENCE = struct.Struct("<Q")
STREAM, RECORD, FLUSH, RESET = ord("S"), ord("R"), ord("F"), ord("X")
NO_ID = 0xFFFF


@dataclass(frozen=True, slots=True)
class Stream:
    """What every record of one stream shares."""

    setting: CaptureSetting
    endpoint: str
    variant: str
    request_type: str
    response_type: str


def stream_frame(stream_id: int, stream: Stream) -> bytes:
    s = stream.setting
    body = STREAM_ID.pack(stream_id) + json.dumps({
        "destination": s.destination, "sampling": s.sampling_percentage, "input": s.capture_input,
        "output": s.capture_output, "csv": sorted(s.csv_types), "json": sorted(s.json_types), "kms": s.kms_key_id,
        "endpoint": stream.endpoint, "variant": stream.variant, "request_type": stream.request_type,
        "response_type": stream.response_type}).encode()
    return HEAD.pack(STREAM, len(body)) + body


def parse_stream(body: bytes) -> tuple[int, Stream]:
    (stream_id,) = STREAM_ID.unpack_from(body)
    d: dict[str, Any] = json.loads(body[STREAM_ID.size:])
    setting = CaptureSetting(d["destination"], d["sampling"], d["input"], d["output"], frozenset(d["csv"]),
                             frozenset(d["json"]), d["kms"])
    return stream_id, Stream(setting, d["endpoint"], d["variant"], d["request_type"], d["response_type"])


def flush_frame(sequence: int) -> bytes:
    return HEAD.pack(FLUSH, SEQUENCE.size) + SEQUENCE.pack(sequence)


def reset_frame() -> bytes:
    return HEAD.pack(RESET, 0)


def parse_record(body: memoryview) -> tuple[int, float, str | None, bytes, bytes]:
    """(stream id, time, inference id, request, response) of a RECORD body."""
    stream_id, at, id_length, request_length, response_length = struct.unpack_from("<IdHII", body)
    start = RECORD_FIXED
    inference_id = None
    if id_length != NO_ID:
        inference_id = bytes(body[start:start + id_length]).decode()
        start += id_length
    request = bytes(body[start:start + request_length])
    start += request_length
    return stream_id, at, inference_id, request, bytes(body[start:start + response_length])


@dataclass(frozen=True, slots=True)
class Status:
    """What the writer process reports after each write pass (cumulative since it started)."""

    confirmed: int
    """The last FLUSH sequence number written (0: none)."""
    done_bytes: int
    """Frame bytes received and written (or refused by their destination)."""
    counts: dict[tuple[str, str], tuple[int, int]]
    """(endpoint, variant) -> (records written, records refused by the destination)"""
    failures: dict[str, str]
    """destination -> why its last write failed"""

    def line(self) -> bytes:
        return json.dumps({"confirmed": self.confirmed, "done_bytes": self.done_bytes,
                           "counts": [[e, v, w, f] for (e, v), (w, f) in self.counts.items()],
                           "failures": self.failures}).encode() + b"\n"

    @staticmethod
    def parse(line: bytes) -> Status:
        d = json.loads(line)
        return Status(int(d["confirmed"]), int(d["done_bytes"]),
                      {(e, v): (int(w), int(f)) for e, v, w, f in d["counts"]}, dict(d["failures"]))


def status_lines(buffer: bytearray) -> Iterator[Status]:
    """Complete status lines at the start of ``buffer`` (consumed from it)."""
    while (end := buffer.find(b"\n")) >= 0:
        line = bytes(buffer[:end])
        del buffer[:end + 1]
        yield Status.parse(line)
