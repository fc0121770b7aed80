"""The paired report's reading of answers and its regression and error figures, on pairs made here."""

from __future__ import annotations

from greenfleet.experiments.pairs import Pair, PairCollector
from greenfleet.experiments.report import comparison_report, parse_answer
from greenfleet.router.mirror import Answer


def answer(variant: str, body: str, outcome: str = "ok", latency_us: float = 1000.0) -> Answer:
    return Answer(variant, "cfg", outcome, 200 if outcome == "ok" else 500, body.encode(), "text/csv", latency_us)


def test_answers_are_read_as_json_or_csv() -> None:
    assert parse_answer(b"0.25") == [0.25]
    assert parse_answer(b"1,0\n1") == [1.0, 0.0, 1.0]
    assert parse_answer(b'{"predictions": [[0.1, 0.9]]}') == [0.1, 0.9]
    assert parse_answer(b'["cat", "dog"]') == ["cat", "dog"]


def test_pairs_complete_in_either_order_and_halves_waiting_are_bounded() -> None:
    pairs = PairCollector(max_pending=2)
    pairs.shadow("e", "a", answer("s", "1"), 1.0)
    pairs.production("e", "a", b"x", "text/csv", answer("p", "1"), 1.1)
    pairs.production("e", "b", b"y", "text/csv", answer("p", "1"), 2.0)
    assert [p.inference_id for p in pairs.drain()] == ["a"]
    for index in range(3):  # b and two more wait for a shadow that never comes: the oldest goes
        pairs.production("e", f"lost-{index}", b"", None, answer("p", "1"), 3.0)
    assert pairs.unpaired == 2 and pairs.drain() == []


def test_complete_pairs_beyond_the_outbox_are_dropped_and_counted() -> None:
    pairs = PairCollector(max_outbox=3)
    for index in range(5):
        pairs.production("e", f"{index}", b"x", None, answer("p", "1"), 1.0)
        pairs.shadow("e", f"{index}", answer("s", "1"), 1.0)
    assert [p.inference_id for p in pairs.drain()] == ["0", "1", "2"] and pairs.unstored == 2
    pairs.put_back([Pair("e", f"old-{i}", 0.0, b"", None, answer("p", "1"), answer("s", "1")) for i in range(2)])
    pairs.production("e", "new", b"x", None, answer("p", "1"), 2.0)
    pairs.shadow("e", "new", answer("s", "1"), 2.0)
    pairs.put_back([Pair("e", "older", 0.0, b"", None, answer("p", "1"), answer("s", "1"))])
    assert [p.inference_id for p in pairs.drain()] == ["old-0", "old-1", "new"] and pairs.unstored == 3


def test_regression_reports_absolute_differences_and_the_most_divergent_input() -> None:
    pairs = PairCollector()
    for index in range(100):
        shadow = 0.5 + (0.3 if index == 42 else 0.01)
        pairs.production("e", f"id-{index}", f"row-{index}".encode(), "text/csv", answer("p", "0.5"), float(index))
        pairs.shadow("e", f"id-{index}", answer("s", f"{shadow}", latency_us=3000.0), float(index))
    pairs.production("e", "failed", b"row", "text/csv", answer("p", "0.5"), 200.0)
    pairs.shadow("e", "failed", answer("s", "", outcome="model_error_5xx"), 200.0)
    report = comparison_report("x", "e", "p", "s", pairs.drain())
    predictions = report["Predictions"]
    assert predictions["Kind"] == "regression" and predictions["Pairs"] == 100
    assert abs(predictions["AbsoluteDifference"]["p50"] - 0.01) < 1e-9
    assert predictions["MostDivergent"][0]["InferenceId"] == "id-42"
    assert predictions["MostDivergent"][0]["Input"] == "row-42"
    assert report["Latency"]["Shadow"]["p50"] == 3.0 and report["Latency"]["Shift"]["Verdict"] == "HIGH"
    assert report["Errors"]["Shadow"]["Errors"] == 1 and report["Errors"]["Production"]["Errors"] == 0
