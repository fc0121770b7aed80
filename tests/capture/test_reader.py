"""``read_inputs`` (what a data-quality execution reads) gives exactly the endpointInput pairs of the
records ``read_captured`` parses, whether a file takes the regular-expression path (SageMaker's layout,
no escapes) or the JSON parser (another key order, escapes, blank lines, output-only records)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from greenfleet.capture.config import CaptureSetting
from greenfleet.capture.reader import _INPUT_LINE, read_captured, read_inputs
from greenfleet.capture.record import CapturedEvent
from greenfleet.capture.writer import CaptureWriter
from greenfleet.monitoring.dataset import Table, captured_table, inputs_table

AT = 1_700_000_000.25  # 2023-11-14T22:13:20Z
TYPES = (frozenset({"text/csv"}), frozenset({"application/json"}))


def pairs(destination: str, start: float, end: float) -> list[tuple[str, str]]:
    payloads = (r["captureData"].get("endpointInput") for r in read_captured(destination, "ep", start, end))
    return [(p["encoding"], p["data"]) for p in payloads if p is not None]


def same(a: Table, b: Table) -> bool:
    return (a.names, a.columns, a.integral, a.row_count) == (b.names, b.columns, b.integral, b.row_count) and \
        a.numeric.keys() == b.numeric.keys() and all(np.array_equal(a.numeric[k], b.numeric[k]) for k in a.numeric)


def write(root: Path, events: list[tuple[bytes, str, float]], capture_input: bool = True) -> None:
    setting = CaptureSetting(str(root), 100, capture_input, True, *TYPES)
    writer = CaptureWriter(max_queued_bytes=1 << 24, flush_interval_s=1.0)
    for body, content_type, at in events:
        writer.offer(CapturedEvent(setting, "ep", "v1", at, body, content_type, b"0.5", "text/csv", "id"))
    writer.stop()


def test_the_writers_files_take_the_fast_path_and_agree_with_the_parser(tmp_path: Path) -> None:
    write(tmp_path, [(f"{n},{n / 3:.4f},x{n}".encode(), "text/csv", AT + n) for n in range(50)]
          + [(b"\x00\x01", "image/png", AT + 61)])
    files = list(tmp_path.rglob("*.jsonl"))
    assert files and all(len(_INPUT_LINE.findall(f.read_bytes())) == f.read_bytes().count(b"\n") for f in files)
    found = list(read_inputs(str(tmp_path), "ep", AT + 4.5, AT + 62))
    assert found == pairs(str(tmp_path), AT + 4.5, AT + 62)
    assert found[0] == ("CSV", "5,1.6667,x5") and found[-1] == ("BASE64", "AAE=") and len(found) == 46


@pytest.mark.parametrize("case", ["escapes", "json", "order", "blank", "output-only", "multi-line"])
def test_any_other_file_goes_through_the_parser(tmp_path: Path, case: str) -> None:
    if case == "output-only":
        write(tmp_path, [(b"1,2", "text/csv", AT)], capture_input=False)
    elif case == "escapes":
        write(tmp_path, [(b'1,"a ""quoted"" word"', "text/csv", AT), (b"2,b", "text/csv", AT + 1)])
    elif case == "json":  # JSON data is escaped in its record
        write(tmp_path, [(b'{"a": 1, "b": "x"}', "application/json", AT)])
    elif case == "multi-line":
        write(tmp_path, [(b"1,2\n3,4", "text/csv", AT)])
    else:
        record = {"eventMetadata": {"eventId": "e", "inferenceTime": "2023-11-14T22:13:20Z"}, "eventVersion": "0",
                  "captureData": {"endpointInput": {"observedContentType": "text/csv", "mode": "INPUT",
                                                    "data": "7,8", "encoding": "CSV"}}}
        directory = tmp_path / "ep" / "v1" / "2023" / "11" / "14" / "22"
        directory.mkdir(parents=True)
        line = json.dumps(record, separators=(",", ":"))
        (directory / "13-20-250-x.jsonl").write_text(f"{line}\n\n{line}\n" if case == "blank" else f"{line}\n")
    found = list(read_inputs(str(tmp_path), "ep", AT - 1, AT + 10))
    assert found == pairs(str(tmp_path), AT - 1, AT + 10)
    expected = {"escapes": 2, "json": 1, "order": 1, "blank": 2, "output-only": 0, "multi-line": 1}[case]
    assert len(found) == expected
    names = ["a", "b"]
    assert same(inputs_table(found, names), captured_table(read_captured(str(tmp_path), "ep", AT - 1, AT + 10), names))
