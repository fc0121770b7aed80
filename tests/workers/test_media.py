"""Request decoding, Accept negotiation and prediction encoding."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest

from greenfleet.workers.errors import ModelInputError, NotAcceptable, UnsupportedContentType
from greenfleet.workers.media import ARRAY_TYPES, decode_rows, encode_predictions, media_type, negotiate


@pytest.mark.parametrize(
    "body",
    [
        b"[[1, 2], [3, 4]]",
        b'{"instances": [[1, 2], [3, 4]]}',
        b'{"inputs": [[1, 2], [3, 4]]}',
        b'{"instances": [{"features": [1, 2]}, {"features": [3, 4]}]}',
    ],
)
def test_json_forms(body: bytes) -> None:
    assert decode_rows(body, "application/json; charset=utf-8").tolist() == [[1, 2], [3, 4]]


def test_a_flat_json_array_is_one_row() -> None:
    assert decode_rows(b"[1, 2, 3]", "application/json").shape == (1, 3)


def test_csv_rows_with_a_missing_value_and_quotes() -> None:
    rows = decode_rows(b'1,,3\n"4",5,6\n', "text/csv")
    assert rows.shape == (2, 3) and math.isnan(rows[0, 1]) and rows[1, 0] == 4


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"1,2\n3", "text/csv", "line 2 has 1 values, line 1 has 2"),
        (b"1,x", "text/csv", "'x' is not a number"),
        (b"[[1, 2], [3]]", "application/json", "same number of values"),
        (b'{"rows": []}', "application/json", "'instances' or 'inputs'"),
        (b"{", "application/json", "not valid JSON"),
        (b"", "application/json", "empty"),
        (b"NUMPY", "application/x-npy", "not a valid .npy"),
        (b"7", "application/json", "single value"),
    ],
)
def test_bad_bodies_are_input_errors(body: bytes, content_type: str, message: str) -> None:
    with pytest.raises(ModelInputError, match=message):
        decode_rows(body, content_type)


def test_unknown_content_type() -> None:
    with pytest.raises(UnsupportedContentType, match="'image/png' is not supported"):
        decode_rows(b"x", "image/png")


def test_npy_and_jsonlines() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(6).reshape(2, 3))
    assert decode_rows(buffer.getvalue(), "application/x-npy").shape == (2, 3)
    assert decode_rows(b'[1,2]\n{"features": [3,4]}\n', "application/jsonlines").tolist() == [[1, 2], [3, 4]]


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        ("", "application/json"),
        ("*/*", "application/json"),
        ("text/csv", "text/csv"),
        ("text/csv; charset=utf-8", "text/csv"),
        ("image/png, text/csv;q=0.5, application/x-npy;q=0.9", "application/x-npy"),
        ("text/*", "text/csv"),
        ("application/*", "application/json"),
    ],
)
def test_negotiate(accept: str, expected: str) -> None:
    assert negotiate(accept, ARRAY_TYPES, "application/json") == expected


def test_nothing_acceptable() -> None:
    with pytest.raises(NotAcceptable, match="answers application/json, text/csv"):
        negotiate("image/png", ARRAY_TYPES, "application/json")


def test_encodings() -> None:
    predictions = np.array([0.25, 1.0])
    assert json.loads(encode_predictions(predictions, "application/json")) == {"predictions": [0.25, 1.0]}
    assert encode_predictions(predictions, "text/csv") == b"0.25\n1.0\n"
    assert encode_predictions(np.array([[1, 2], [3, 4]]), "text/csv") == b"1,2\n3,4\n"
    assert encode_predictions(np.array(["a,b", "c"]), "text/csv") == b'"a,b"\nc\n'
    assert np.load(io.BytesIO(encode_predictions(predictions, "application/x-npy"))).tolist() == [0.25, 1.0]
    assert encode_predictions(predictions, "application/jsonlines") == b"0.25\n1.0\n"


def test_media_type() -> None:
    assert media_type(" Text/CSV ; charset=utf-8") == "text/csv"
    assert media_type("application/x-jsonlines") == "application/jsonlines"
