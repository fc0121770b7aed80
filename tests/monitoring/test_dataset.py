"""Reading baseline datasets; a malformed one is refused naming row and column."""

from __future__ import annotations

import pytest

from greenfleet.monitoring.dataset import DatasetError, captured_table, read_dataset


def test_csv_with_and_without_header() -> None:
    table = read_dataset(b"age,state\n31,CA\n,NY\n", "csv", header=True)
    assert table.names == ("age", "state") and table.columns == (["31", ""], ["CA", "NY"])
    assert read_dataset(b"1,2\n3,4\n", "csv").names == ("_c0", "_c1")


@pytest.mark.parametrize(("data", "message"), [
    (b"age,state\n31,CA\n40\n", "row 3, column 2 ('state'): missing"),
    (b"age,state\n31,CA,x\n", "row 2, column 3: unexpected"),
    (b"age,state\n", "no data rows"),
])
def test_malformed_csv_names_row_and_column(data: bytes, message: str) -> None:
    with pytest.raises(DatasetError) as info:
        read_dataset(data, "csv", header=True)
    assert message in info.value.message


@pytest.mark.parametrize(("data", "message"), [
    (b'{"a": 1}\n{"a": 2,, }\n', "row 2, column 9: invalid JSON"),
    (b'{"a": 1}\n[1, 2]\n', "row 2, column 1: expected a JSON object"),
    (b'{"a": {"b": 1}}\n', "row 1, column 'a': nested values"),
    (b"\xff\n", "row 1: not UTF-8"),
])
def test_malformed_json_lines_name_row_and_column(data: bytes, message: str) -> None:
    with pytest.raises(DatasetError) as info:
        read_dataset(data, "json")
    assert message in info.value.message
    assert info.value.code == "ValidationException"


def test_json_lines_absent_keys_are_missing() -> None:
    table = read_dataset(b'{"a": 1, "b": "x"}\n{"a": 2}\n{"c": 3.5}\n', "json")
    assert table.names == ("a", "b", "c")
    assert table.columns == ([1, 2, None], ["x", None, None], [None, None, 3.5])


def test_captured_csv_inputs_take_baseline_names_by_position() -> None:
    records = [{"captureData": {"endpointInput": {"data": d, "encoding": "CSV"}}} for d in ("1,a", "2,b,9")]
    table = captured_table(records, ["age", "state"])
    assert table.names == ("age", "state", "_c2")
    assert table.columns == (["1", "2"], ["a", "b"], [None, "9"])


def test_captured_numbers_are_parsed_in_bulk_with_the_same_statistics() -> None:
    from greenfleet.monitoring import evaluate

    lines = ["1,2.5,3e1", "4,5.0,-6", "7,8.25,9"]
    records = [{"captureData": {"endpointInput": {"data": d, "encoding": "CSV"}}} for d in lines]
    bulk = captured_table(records, ["a", "b", "c"])
    assert set(bulk.numeric) == {"a", "b", "c"} and bulk.integral == {"a"} and bulk.rows == 3
    careful = read_dataset("\n".join(lines).encode(), "csv")
    fast = evaluate(bulk, {"features": []}, None).statistics["features"]
    slow = evaluate(careful, {"features": []}, None).statistics["features"]
    assert [(f["inferred_type"], f["numerical_statistics"]["mean"]) for f in fast] == \
        [(f["inferred_type"], f["numerical_statistics"]["mean"]) for f in slow]
    assert [f["inferred_type"] for f in fast] == ["Integral", "Fractional", "Fractional"]
    ragged = captured_table([*records, {"captureData": {"endpointInput": {"data": "1,,x", "encoding": "CSV"}}}],
                            ["a", "b", "c"])
    assert ragged.numeric == {} and ragged.columns[1] == ["2.5", "5.0", "8.25", ""]
