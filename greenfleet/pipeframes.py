"""Frames on a pipe between a serving process and a helper process of its own (the capture writer, the
router's mirror process): each frame is a kind byte and the body's length (u32, little-endian), then the
body, so a reader takes whole frames from whatever one read returned, many per system call. Pure: no I/O."""

from __future__ import annotations

import struct

__all__ = ["HEAD", "split"]

HEAD = struct.Struct("<BI")
"""kind, body length"""


def split(buffer: bytes | bytearray) -> tuple[list[tuple[int, memoryview]], int]:
    """The complete frames at the start of ``buffer`` as (kind, body), and how many bytes they take."""
    view, frames, at, size = memoryview(buffer), [], 0, len(buffer)
    head = HEAD.size
    while at + head <= size:
        kind, length = HEAD.unpack_from(view, at)
        if at + head + length > size:
            break
        frames.append((kind, view[at + head:at + head + length]))
        at += head + length
    return frames, at
