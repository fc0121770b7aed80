"""The chunked reader of row-oriented bodies: rows cut at every split of the input, in order, whole."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from greenfleet.workers.errors import ModelInputError
from greenfleet.workers.media import CSV, JSON, JSONLINES, decode_rows
from greenfleet.workers.rows import RowReader, row_stream


def cut(body: bytes, sizes: list[int], media: str = CSV, chunk_rows: int = 2) -> list[bytes]:
    """The chunks a RowReader gives for ``body`` arriving in reads of ``sizes`` bytes (cycled)."""
    reader = RowReader(media, chunk_rows)
    chunks: list[bytes] = []
    position = 0
    for size in itertools.cycle(sizes):
        if position >= len(body):
            break
        chunks.extend(reader.feed(body[position:position + size]))
        position += size
    chunks.append(reader.finish())
    return chunks


CSV_BODY = b'1,2\r\n3,"4"\r\n"5",6\n7,8\n"9\n",10\n11,"a ""quoted"" 12"\n13,14'
"""CRLF and LF, quoted cells, a newline and doubled quotes inside quotes, and a last row without newline."""


@pytest.mark.parametrize("sizes", [[1], [2], [3], [5], [7], [len(CSV_BODY)], [1, 4, 2]])
def test_csv_rows_survive_every_split(sizes: list[int]) -> None:
    chunks = cut(CSV_BODY, sizes)
    assert b"".join(chunks) == CSV_BODY
    rows = [row for chunk in chunks for row in _csv_rows(chunk)]
    assert rows == [["1", "2"], ["3", "4"], ["5", "6"], ["7", "8"], ["9\n", "10"], ["11", 'a "quoted" 12'],
                    ["13", "14"]]
    assert all(len(_csv_rows(chunk)) <= 2 for chunk in chunks)  # chunk_rows


@pytest.mark.parametrize("sizes", [[1], [2], [3], [4], [5], [7], [1, 4, 2]])
@pytest.mark.parametrize("media", [CSV, JSONLINES])
def test_bare_carriage_returns_end_rows_as_when_read_whole(sizes: list[int], media: str) -> None:
    body = (b"1,2\r3,4\r5,6\r\n7,8\r9,10" if media == CSV else b"[1,2]\r[3,4]\r[5,6]\r\n[7,8]\r[9,10]")
    chunks = cut(body, sizes, media, chunk_rows=2)
    assert b"".join(chunks) == body
    decoded = [decode_rows(chunk, media) for chunk in chunks if chunk.strip()]
    assert np.vstack(decoded).tolist() == decode_rows(body, media).tolist() == [[1, 2], [3, 4], [5, 6], [7, 8],
                                                                                [9, 10]]
    assert all(len(rows) <= 3 for rows in decoded)  # cut at row ends (one may be missed at a split \r)


def _csv_rows(chunk: bytes) -> list[list[str]]:
    import csv
    import io

    return [row for row in csv.reader(io.StringIO(chunk.decode())) if row]


def test_a_chunk_holds_at_most_chunk_rows_whole_lines() -> None:
    body = b"".join(f"{i},{i}\n".encode() for i in range(1000)) + b"1000,1000"
    chunks = cut(body, [97], chunk_rows=64)
    assert b"".join(chunks) == body
    assert all(chunk.count(b"\n") == 64 and chunk.endswith(b"\n") for chunk in chunks[:-1])
    assert chunks[-1].endswith(b"1000,1000")


def test_a_chunk_also_ends_past_chunk_bytes() -> None:
    reader = RowReader(CSV, chunk_rows=1000, chunk_bytes=10)
    assert list(reader.feed(b"1,2,3\n4,5,6\n7,8")) == [b"1,2,3\n4,5,6\n"]
    assert reader.finish() == b"7,8"


def test_jsonlines_rows_ignore_quotes_and_keep_crlf_rows_whole() -> None:
    body = b'[1,2]\r\n{"features":[3,4]}\r\n\r\n["x\\"y"]\n[5,6]'
    chunks = cut(body, [3], JSONLINES, chunk_rows=1)
    assert b"".join(chunks) == body
    assert [chunk for chunk in chunks if chunk.strip()] == [b"[1,2]\r\n", b'{"features":[3,4]}\r\n', b'["x\\"y"]\n',
                                                           b"[5,6]"]


def test_streamed_answers_equal_the_whole_body_answers() -> None:
    rows = np.random.default_rng(0).normal(size=(57, 3))
    body = "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()

    def predict(x: np.ndarray) -> np.ndarray:
        return x.sum(axis=1)

    for answer in (JSON, CSV, JSONLINES):
        stream = row_stream(CSV, answer, predict)
        assert stream is not None
        parts = [stream.chunk(chunk) for chunk in cut(body, [50], CSV, chunk_rows=10)]
        streamed = stream.head + b"".join(parts) + stream.tail
        whole = predict(decode_rows(body, CSV))
        if answer == JSON:
            assert json.loads(streamed) == {"predictions": whole.tolist()}
        elif answer == CSV:
            assert [float(line) for line in streamed.splitlines()] == whole.tolist()
        else:
            assert [json.loads(line) for line in streamed.splitlines()] == whole.tolist()
        assert stream.rows == 57


@pytest.mark.parametrize(("first", "later", "reason"), [
    (b"1,2\n3,4\n", b"5,6,7\n", "line 3 have 3 values, line 1 has 2"),
    (b"1,2\n3,4\n", b"5,6\n7,x\n", "line 4: 'x' is not a number"),
], ids=["another-width", "bad-cell"])
def test_a_bad_later_chunk_is_a_400_naming_its_line_from_the_start_of_the_body(first: bytes, later: bytes,
                                                                             reason: str) -> None:
    stream = row_stream(CSV, CSV, lambda x: x[:, 1])
    assert stream is not None
    stream.chunk(first)
    with pytest.raises(ModelInputError, match=reason):
        stream.chunk(later)


def test_an_empty_cell_in_a_later_chunk_is_nan_as_when_read_whole() -> None:
    stream = row_stream(CSV, CSV, lambda x: x[:, 1])
    assert stream is not None
    stream.chunk(b"1,2\n3,4\n")
    assert stream.chunk(b"8,\n") == b"nan\n"


def test_npy_answers_are_not_streamed() -> None:
    assert row_stream(CSV, "application/x-npy", lambda x: x) is None
    assert row_stream(JSON, JSON, lambda x: x) is None
