"""Request bodies of the AWS protocols: read with a size cap, and inflated when botocore sent them with
``Content-Encoding: gzip`` (it compresses PutMetricData bodies above 10 KB). The inflated size is capped
too, so a zip bomb costs at most ``limit`` bytes of memory before it is refused."""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator

CHUNK = 64 * 1024


class BodyError(Exception):
    """A body that cannot be used: ``status`` 413 (too large) or 400/415 (corrupt, unknown encoding)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def too_large(limit: int, what: str) -> BodyError:
    return BodyError(413, "RequestEntityTooLarge",
                     f"Request body {what} more than {limit} bytes; greenfleet refuses larger requests.")


async def read_capped(chunks: AsyncIterator[bytes], limit: int, content_length: str | None = None) -> bytes:
    """The whole body from ``chunks``, or BodyError(413) once it passes ``limit`` bytes."""
    if content_length is not None and content_length.isdigit() and int(content_length) > limit:
        raise too_large(limit, "is")
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise too_large(limit, "is")
        parts.append(chunk)
    return b"".join(parts)


def inflate(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """The body as the operation sees it: gzip undone (several members allowed), at most ``limit`` bytes."""
    encodings = [e.strip().lower() for e in (content_encoding or "").split(",") if e.strip()]
    encodings = [e for e in encodings if e != "identity"]
    if not encodings:
        return body
    if encodings != ["gzip"]:
        raise BodyError(415, "UnsupportedMediaType",
                        f"Content-Encoding '{content_encoding}' is not supported; send gzip or no encoding.")
    out: list[bytes] = []
    size = 0
    data = body
    try:
        while data:  # one gzip member per pass; botocore sends one, RFC 1952 allows several
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            while True:
                piece = inflater.decompress(data, CHUNK)
                size += len(piece)
                if size > limit:
                    raise too_large(limit, "inflates (Content-Encoding: gzip) to")
                out.append(piece)
                data = inflater.unconsumed_tail
                if inflater.eof or (not data and not piece):
                    break
            if not inflater.eof:
                raise BodyError(400, "MalformedInput", "The gzip request body is truncated.")
            data = inflater.unused_data
    except zlib.error as exc:
        raise BodyError(400, "MalformedInput", f"The request body is not valid gzip: {exc}") from None
    return b"".join(out)
