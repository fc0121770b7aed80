"""Datasets for Model Monitor: a baseline file (CSV with or without a header, or JSON lines) or the
captured records of an endpoint, as named columns of raw values. A malformed row is refused with an
error naming its row (1-based, as an editor counts lines) and column."""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from greenfleet.errors import ValidationError

Value = str | int | float | bool | None


class DatasetError(ValidationError):
    """A dataset that cannot be read; the message names the row and column."""


@dataclass(frozen=True)
class Table:
    names: tuple[str, ...]
    columns: tuple[list[Value], ...]
    numeric: dict[str, np.ndarray] = field(default_factory=dict)
    """Columns parsed in bulk as numbers (captured CSV that is all numbers); their ``columns`` entry is
    empty, ``integral`` names those written without fractions."""
    integral: frozenset[str] = frozenset()
    row_count: int | None = None

    @property
    def rows(self) -> int:
        if self.row_count is not None:
            return self.row_count
        return len(self.columns[0]) if self.columns else 0


def default_names(count: int) -> tuple[str, ...]:
    """Spark's names for the columns of a CSV without header, as SageMaker's reports use them."""
    return tuple(f"_c{i}" for i in range(count))


def read_csv(text: str, header: bool) -> Table:
    rows = csv.reader(io.StringIO(text))
    names: tuple[str, ...] | None = None
    columns: list[list[Value]] = []
    first = 1
    if header:
        try:
            names = tuple(next(rows))
        except StopIteration:
            raise DatasetError("row 1: the dataset is empty; a header row was expected") from None
        except csv.Error as exc:
            raise DatasetError(f"row 1: {exc}") from None
        first = 2
        columns = [[] for _ in names]
    line = first - 1
    try:
        for line, row in enumerate(rows, start=first):
            if not row:
                continue
            if names is None:
                names = default_names(len(row))
                columns = [[] for _ in names]
            _check_width(row, names, line)
            for column, value in zip(columns, row, strict=True):
                column.append(value)
    except csv.Error as exc:
        raise DatasetError(f"row {line + 1}: {exc}") from None
    if names is None or not columns or not columns[0]:
        raise DatasetError(f"row {first}: the dataset has no data rows")
    return Table(names, tuple(columns))


def _check_width(row: Sequence[str], names: Sequence[str], line: int) -> None:
    if len(row) < len(names):
        missing = len(row) + 1
        raise DatasetError(f"row {line}, column {missing} ('{names[missing - 1]}'): missing; the row has "
                           f"{len(row)} of {len(names)} columns")
    if len(row) > len(names):
        raise DatasetError(f"row {line}, column {len(names) + 1}: unexpected; rows have {len(names)} columns")


def read_json_lines(text: str) -> Table:
    """One JSON object per line; its keys are the features (first seen order), absent keys are missing."""
    index: dict[str, int] = {}
    columns: list[list[Value]] = []
    count = 0
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            item = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"row {line}, column {exc.colno}: invalid JSON ({exc.msg})") from None
        if not isinstance(item, dict):
            raise DatasetError(f"row {line}, column 1: expected a JSON object, found {type(item).__name__}")
        for key, value in item.items():
            if isinstance(value, dict | list):
                raise DatasetError(f"row {line}, column '{key}': nested values are not supported")
            if key not in index:
                index[key] = len(columns)
                columns.append([None] * count)
            columns[index[key]].append(value)
        count += 1
        for column in columns:
            if len(column) < count:
                column.append(None)
    if not count:
        raise DatasetError("row 1: the dataset has no data rows")
    return Table(tuple(index), tuple(columns))


def read_dataset(data: bytes, dataset_format: str, header: bool = False) -> Table:
    """``dataset_format``: ``csv`` or ``json`` (JSON lines)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DatasetError(f"row {line}: not UTF-8 text") from None
    if dataset_format == "csv":
        return read_csv(text, header)
    if dataset_format == "json":
        return read_json_lines(text)
    raise ValidationError(f"dataset format '{dataset_format}' is not csv or json")


def captured_table(records: Iterable[dict[str, Any]], names: Sequence[str]) -> Table:
    """The endpoint inputs of captured records (CSV or JSON-lines data) as columns, matched to the
    baseline's feature names by position (CSV) or by key (JSON); columns beyond the baseline's are kept
    under Spark's ``_cN`` names so extra columns are seen."""
    payloads = (r["captureData"].get("endpointInput") for r in records)
    return inputs_table(((p["encoding"], p["data"]) for p in payloads if p is not None), names)


def inputs_table(inputs: Iterable[tuple[str, str]], names: Sequence[str]) -> Table:
    """``captured_table`` of the endpoint inputs' (encoding, data) pairs (``capture.reader.read_inputs``)."""
    csv_rows: list[str] = []
    json_rows: list[str] = []
    for encoding, data in inputs:
        if encoding == "BASE64":
            import base64

            data = base64.b64decode(data).decode("utf-8", "replace")
        if encoding == "CSV" and data.isprintable():  # no line break of any kind: one row per invocation
            csv_rows.append(data)
            continue
        (json_rows if encoding == "JSON" else csv_rows).extend(data.splitlines() or [""])
    if json_rows:
        return read_json_lines("\n".join(json_rows))
    if not csv_rows:
        return Table(tuple(names), tuple([] for _ in names))
    width = max(r.count(",") for r in csv_rows) + 1
    labels = tuple(names[i] if i < len(names) else f"_c{i}" for i in range(width))
    bulk = _numeric_matrix(csv_rows, width, labels)
    if bulk is not None:
        return bulk
    columns: list[list[Value]]
    if all(r.count(",") == width - 1 for r in csv_rows) and not any('"' in r for r in csv_rows):
        columns = [list(c) for c in zip(*(r.split(",") for r in csv_rows), strict=True)]  # no quoting: in C
    else:
        columns = [[] for _ in range(width)]
        for row in csv.reader(csv_rows):
            for i in range(width):
                columns[i].append(row[i] if i < len(row) else None)
    return Table(labels, tuple(columns))


def _numeric_matrix(rows: list[str], width: int, labels: tuple[str, ...]) -> Table | None:
    """All rows the same width and every field a finite number: parse the lot in C."""
    text = ",".join(rows)
    if '"' in text or "n" in text or "N" in text:  # quoting, nan, inf: the careful path decides
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            flat = np.fromstring(text, dtype=np.float64, sep=",")
    except (ValueError, DeprecationWarning):
        return None
    if flat.size != len(rows) * width or text.count(",") != flat.size - 1:
        return None
    matrix = flat.reshape(len(rows), width)
    numeric = {label: np.ascontiguousarray(matrix[:, i]) for i, label in enumerate(labels)}
    integral = set()
    fractions = "." in text or "e" in text or "E" in text
    for i, label in enumerate(labels):
        column = numeric[label]
        if not bool(np.all(column == np.floor(column))):
            continue
        if not fractions or not any("." in r.split(",")[i] or "e" in r.split(",")[i].lower() for r in rows):
            integral.add(label)
    return Table(labels, tuple([] for _ in labels), numeric, frozenset(integral), len(rows))
