"""Row-oriented request bodies (``text/csv``, ``application/jsonlines``) read and answered in chunks of rows.

A body larger than the worker's streaming threshold is not held whole: :class:`RowReader` cuts the bytes
arriving from the connection into pieces of whole rows (at most ``chunk_rows`` rows, or about
``CHUNK_BYTES``), the runtime predicts each piece (:class:`RowStream`), and each piece's answer goes to a
spool the worker sends once the body is read (``server.py``), so its memory stays flat whatever the size.

A row ends at ``\\n`` (``\\r\\n`` too: the ``\\r`` stays with its row, where the decoders drop it), or at a bare
``\\r`` (old Mac line endings, which the decoders of a body read whole also accept). In CSV, a
``\\n`` inside a quoted field does not end a row: a row ends only where the count of ``"`` before it is even
(an escaped quote is doubled, which keeps the count's parity). The last row may lack its newline.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from numpy.typing import NDArray

from greenfleet.workers.errors import ModelInputError
from greenfleet.workers.media import CSV, JSON, JSONLINES, decode_rows_piece, dumps_json, encode_predictions

__all__ = ["CHUNK_BYTES", "CHUNK_ROWS", "ROW_TYPES", "RowReader", "RowStream", "row_stream"]

ROW_TYPES = (CSV, JSONLINES)
"""Request media types read in chunks of rows."""
CHUNK_ROWS = 10_000
"""Default rows per predicted chunk (GREENFLEET_WORKER_STREAM_CHUNK_ROWS)."""
CHUNK_BYTES = 8 * 1024 * 1024
"""A chunk also ends at the first row end past this many bytes (wide rows)."""
_ROW_END = re.compile(rb"\r\n|\r(?=[^\n])|\n")
"""A row end once a body has shown a bare ``\\r`` (a ``\\r`` last in the buffer waits for the next byte)."""


class RowReader:
    """Cuts a stream of byte pieces into pieces of whole rows, in order."""

    def __init__(self, media: str, chunk_rows: int = CHUNK_ROWS, chunk_bytes: int = CHUNK_BYTES) -> None:
        self.quoted = media == CSV
        self.chunk_rows = chunk_rows
        self.chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self._rows = 0  # row ends in _buffer[:_scanned]
        self._scanned = 0  # bytes of _buffer already scanned for row ends
        self._cut = 0  # where the last complete row of the scanned part ends
        self._in_quotes = False  # CSV: inside a quoted field at _scanned
        self._bare_cr = False  # the body has a \r not followed by \n: rows end at _ROW_END (slower than find)
        self._ends_cr = False  # the last piece fed ended with \r (a \r\n may be split between pieces)

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The chunks of whole rows that ``data`` completes."""
        if data and not self._bare_cr and (self._ends_cr or b"\r" in data):
            self._bare_cr = (data.count(b"\r") > data.count(b"\r\n") + data.endswith(b"\r")
                             or (self._ends_cr and not data.startswith(b"\n")))
        if data:
            self._ends_cr = data.endswith(b"\r")
        self._buffer += data
        while True:
            chunk = self._next_chunk()
            if chunk is None:
                return
            yield chunk

    def finish(self) -> bytes:
        """What is left at the end of the body (rows, the last one maybe without its newline)."""
        rest = bytes(self._buffer)
        self._buffer.clear()
        self._rows = self._scanned = self._cut = 0
        return rest

    @property
    def unfinished(self) -> int:
        """Bytes of the row not yet ended (a row longer than the worker's maximum body is refused)."""
        return len(self._buffer) - self._cut

    def _row_end(self, buffer: bytearray) -> int:
        """Where the first row end at or after ``_scanned`` ends (just past it), or -1."""
        if not self._bare_cr:
            end = buffer.find(b"\n", self._scanned)
            return end + 1 if end >= 0 else -1
        found = _ROW_END.search(buffer, self._scanned)
        return found.end() if found is not None else -1

    def _next_chunk(self) -> bytes | None:
        buffer = self._buffer
        while self._rows < self.chunk_rows:
            after = self._row_end(buffer)
            if after < 0:
                scanned = len(buffer) - (self._bare_cr and buffer.endswith(b"\r"))  # \r\n may be split
                if self.quoted:
                    self._in_quotes ^= buffer.count(b'"', self._scanned, scanned) % 2 == 1
                self._scanned = scanned
                break
            if self.quoted:
                self._in_quotes ^= buffer.count(b'"', self._scanned, after) % 2 == 1
            self._scanned = after
            if not self._in_quotes:
                self._rows += 1
                self._cut = self._scanned
                if self._cut >= self.chunk_bytes:
                    break
        if self._cut == 0 or (self._rows < self.chunk_rows and self._cut < self.chunk_bytes):
            return None
        chunk = bytes(buffer[:self._cut])
        del buffer[:self._cut]
        self._scanned -= self._cut
        self._rows = 0
        self._cut = 0
        return chunk


@dataclass
class RowStream:
    """How one request's chunks are predicted and written: the answer is ``head``, each chunk's ``encode``d
    predictions joined by ``separator``, then ``tail``. The first chunk's row width is every chunk's."""

    media: str
    """The request's media type (one of ROW_TYPES)."""
    answer: str
    """The response's media type."""
    predict: Callable[[NDArray[Any]], Any]
    encode: Callable[[Any], bytes]
    head: bytes = b""
    separator: bytes = b""
    tail: bytes = b""
    rows: int = 0
    """Rows predicted so far."""
    width: int | None = field(default=None)

    def chunk(self, piece: bytes) -> bytes:
        """The encoded predictions of the rows in ``piece`` (b"" when it holds none), prefixed by the
        separator after the first non-empty chunk."""
        rows = decode_rows_piece(piece, self.media, first_line=self.rows + 1)
        if rows is None:
            return b""
        if self.width is None:
            self.width = int(rows.shape[1])
        elif rows.shape[1] != self.width:
            raise ModelInputError(f"{self.media} rows from line {self.rows + 1} have {rows.shape[1]} values, "
                                  f"line 1 has {self.width} (rows must be equal)")
        try:
            predictions = self.predict(rows)
        except ValueError as exc:
            raise ModelInputError(str(exc)) from exc
        encoded = self.encode(predictions)
        first = self.rows == 0
        self.rows += len(rows)
        return encoded if first else self.separator + encoded


def row_stream(media: str, answer: str, predict: Callable[[NDArray[Any]], Any],
               json_item: Callable[[Any], Any] | None = None) -> RowStream | None:
    """A RowStream for ``media`` answered in ``answer`` (CSV, JSON lines, or JSON ``{"predictions": [...]}``,
    each prediction mapped through ``json_item`` if given); None when that pair cannot be streamed (NPY)."""
    if media not in ROW_TYPES:
        return None
    if answer in (CSV, JSONLINES):
        return RowStream(media, answer, predict, lambda predictions: encode_predictions(predictions, answer))
    if answer == JSON:
        def items(predictions: Any) -> bytes:
            if json_item is not None:
                values = predictions.tolist() if hasattr(predictions, "tolist") else list(predictions)
                return dumps_json([json_item(value) for value in values])[1:-1]
            return dumps_json(predictions)[1:-1]  # "[a,b]" -> "a,b", as in dumps_json({"predictions": ...})

        return RowStream(media, answer, predict, items, head=b'{"predictions":[', separator=b",", tail=b"]}")
    return None
