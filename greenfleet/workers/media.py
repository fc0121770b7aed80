"""Media types on the request path: read request bodies into row arrays, write predictions back.

Request bodies (``Content-Type``):
    application/json        ``[[...], ...]``, one row ``[...]``, ``{"instances": rows}``, ``{"inputs": rows}``,
                            and the built-in algorithms' ``{"instances": [{"features": [...]}, ...]}``
    application/jsonlines   one row (``[...]`` or ``{"features": [...]}``) per line
    text/csv                header-less numeric rows; an empty cell is a missing value (NaN)
    application/x-npy       a NumPy ``.npy`` array (no pickles)
A 1-D array is one row. Responses (``Accept``): JSON ``{"predictions": [...]}``, JSON lines, CSV
(one prediction per line) and ``.npy``. JSON uses orjson when it is installed.
"""

from __future__ import annotations

import csv
import importlib
import io
import json
import math
from collections.abc import Sequence
from types import ModuleType
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

from greenfleet.workers.errors import ModelInputError, NotAcceptable, UnsupportedContentType

__all__ = [
    "ARRAY_TYPES",
    "CSV",
    "JSON",
    "JSONLINES",
    "NPY",
    "decode_rows",
    "decode_rows_piece",
    "dumps_json",
    "encode_predictions",
    "loads_json",
    "media_type",
    "negotiate",
]

JSON = "application/json"
JSONLINES = "application/jsonlines"
CSV = "text/csv"
NPY = "application/x-npy"
ARRAY_TYPES = (JSON, CSV, NPY, JSONLINES)

_ALIASES = {"application/x-jsonlines": JSONLINES, "application/jsonl": JSONLINES, "application/x-ndjson": JSONLINES}


def _load_orjson() -> ModuleType | None:
    try:
        return importlib.import_module("orjson")
    except ImportError:
        return None


_ORJSON = _load_orjson()


def media_type(header: str) -> str:
    """``text/csv; charset=utf-8`` -> ``text/csv``."""
    media = header.split(";", 1)[0].strip().lower()
    return _ALIASES.get(media, media)


def negotiate(accept: str, offered: Sequence[str], default: str) -> str:
    """The media type to answer in: the client's most preferred one among ``offered``."""
    if not accept or accept == "*/*":
        return default
    if accept in offered:
        return accept
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        quality = 1.0
        for parameter in part.split(";")[1:]:
            key, _, value = parameter.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, index, media_type(part)))
    for _, _, wanted in sorted(ranked):
        if wanted in ("*/*", "*"):
            return default
        if wanted.endswith("/*"):
            family = wanted[:-1]
            if default.startswith(family):
                return default
            wanted = next((media for media in offered if media.startswith(family)), "")
        if wanted in offered:
            return wanted
    raise NotAcceptable(f"cannot answer in Accept '{accept}'; this runtime answers {', '.join(offered)}")


def loads_json(body: bytes | str) -> Any:
    try:
        if _ORJSON is not None:
            return _ORJSON.loads(body)
        return json.loads(body.decode("utf-8") if isinstance(body, bytes) else body)
    except ValueError as exc:  # also UnicodeDecodeError
        raise ModelInputError(f"request body is not valid JSON: {exc}") from exc
    except RecursionError:  # json's decoder, nested deeper than the interpreter's recursion limit
        raise ModelInputError("request body is not valid JSON: nested too deeply") from None


def dumps_json(value: Any) -> bytes:
    if _ORJSON is not None:
        return bytes(_ORJSON.dumps(value, default=_jsonable, option=_ORJSON.OPT_SERIALIZE_NUMPY))
    return json.dumps(value, default=_jsonable, separators=(",", ":")).encode()


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.ndarray | np.generic):
        return value.tolist()
    if hasattr(value, "to_dict"):  # a pandas DataFrame or Series
        return value.to_dict(orient="records") if hasattr(value, "columns") else value.tolist()
    raise TypeError(f"cannot write a {type(value).__name__} as JSON")


def decode_rows(body: bytes, content_type: str) -> NDArray[Any]:
    """The rows of a request body as a 2-D array."""
    media = media_type(content_type)
    if not body:
        raise ModelInputError("request body is empty")
    if media == JSON:
        return _to_rows(_rows_of_json(loads_json(body)))
    if media == CSV:
        return _rows_of_csv(body)
    if media == NPY:
        return _to_rows(_read_npy(body))
    if media == JSONLINES:
        return _to_rows([_row_of_jsonline(line) for line in body.splitlines() if line.strip()])
    raise UnsupportedContentType(
        f"Content-Type '{content_type}' is not supported; send one of: {', '.join(ARRAY_TYPES)}"
    )


def decode_rows_piece(piece: bytes, media: str, *, first_line: int) -> NDArray[Any] | None:
    """The rows of one piece of a row-oriented body (CSV or JSON lines, ``rows.py``), None when it holds
    none (blank lines); errors number lines from ``first_line``."""
    if media == CSV:
        if b'"' not in piece:  # NumPy's parser first (~5x faster); anything it refuses gets ours and its message
            try:
                array: NDArray[Any] = np.loadtxt(io.BytesIO(piece), delimiter=",", dtype=np.float64, ndmin=2,
                                                 comments=None, encoding="utf-8")
            except ValueError:
                pass
            else:
                return array if array.size else None
        return _rows_of_csv(piece, first_line=first_line, empty_ok=True)
    if media == JSONLINES:
        rows = [_row_of_jsonline(line) for line in piece.splitlines() if line.strip()]
        return _to_rows(rows) if rows else None
    raise UnsupportedContentType(f"'{media}' is not read in rows")


def _rows_of_json(value: Any) -> Any:
    if isinstance(value, dict):
        for key in ("instances", "inputs"):
            if key in value:
                value = value[key]
                break
        else:
            if "features" not in value:
                raise ModelInputError("JSON body must be an array of rows or an object with 'instances' or 'inputs'")
            value = [value["features"]]
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return [_features(item) for item in value]
    return value


def _features(item: Any) -> Any:
    if not isinstance(item, dict) or "features" not in item:
        raise ModelInputError("each instance object must have a 'features' array")
    return item["features"]


def _row_of_jsonline(line: bytes) -> Any:
    value = loads_json(line)
    return _features(value) if isinstance(value, dict) else value


def _read_npy(body: bytes) -> NDArray[Any]:
    try:
        array: NDArray[Any] = np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ModelInputError(f"request body is not a valid .npy array: {exc}") from exc
    return array


def _to_rows(data: Any) -> NDArray[Any]:
    try:
        array = np.asarray(data)
    except ValueError as exc:
        raise ModelInputError(f"rows must all have the same number of values ({exc})") from exc
    if array.ndim == 0:
        raise ModelInputError("expected an array of rows, got a single value")
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.size == 0:
        raise ModelInputError("request holds no values")
    return array


@overload
def _rows_of_csv(body: bytes) -> NDArray[Any]: ...
@overload
def _rows_of_csv(body: bytes, *, first_line: int, empty_ok: bool) -> NDArray[Any] | None: ...
def _rows_of_csv(body: bytes, *, first_line: int = 1, empty_ok: bool = False) -> NDArray[Any] | None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ModelInputError(f"text/csv body is not UTF-8: {exc}") from exc
    if '"' in text:
        lines = [cells for cells in csv.reader(io.StringIO(text)) if cells]
    else:
        lines = [line.split(",") for line in text.splitlines() if line.strip()]
    if not lines:
        if empty_ok:
            return None
        raise ModelInputError("text/csv body holds no rows")
    width = len(lines[0])
    rows: list[list[float]] = []
    for number, cells in enumerate(lines, start=first_line):
        if len(cells) != width:
            raise ModelInputError(
                f"text/csv line {number} has {len(cells)} values, line {first_line} has {width} (rows must be "
                "equal)"
            )
        rows.append([_number(cell, number) for cell in cells])
    return np.array(rows, dtype=np.float64)


def _number(cell: str, line: int) -> float:
    if not cell.strip():
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise ModelInputError(
            f"text/csv line {line}: '{cell}' is not a number (send header-less numeric rows)"
        ) from None


def encode_predictions(predictions: Any, media: str) -> bytes:
    """Write predictions in ``media`` (one of :data:`ARRAY_TYPES`)."""
    if media == JSON:
        return dumps_json({"predictions": predictions})
    if media == CSV:
        return _csv_lines(predictions)
    if media == NPY:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(predictions), allow_pickle=False)
        return buffer.getvalue()
    if media == JSONLINES:
        return b"".join(dumps_json(row) + b"\n" for row in _rows_of(predictions))
    raise NotAcceptable(f"cannot answer in '{media}'")


def _rows_of(predictions: Any) -> list[Any]:
    if hasattr(predictions, "columns"):  # a DataFrame: one object per row
        records: list[Any] = predictions.to_dict(orient="records")
        return records
    rows: list[Any] = np.asarray(predictions).tolist() if not isinstance(predictions, list) else predictions
    return rows if isinstance(rows, list) else [rows]


def _csv_lines(predictions: Any) -> bytes:
    array = np.asarray(predictions)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim > 2:
        array = array.reshape(len(array), -1)
    if array.ndim == 1 and array.dtype.kind in "fiub":
        return "".join(f"{value}\n" for value in array.tolist()).encode()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in array.tolist():
        writer.writerow(row if isinstance(row, list) else [row])
    return buffer.getvalue().encode()
