"""evaluate(): per-metric verdicts, carried state, no-data counting, scores and decisions."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from greenfleet.judge import (
    Counts,
    Decision,
    JudgeConfig,
    JudgeReport,
    MetricReport,
    MetricSamples,
    Moments,
    ScoreClass,
    Verdict,
    evaluate,
    values_from_bins,
)
from greenfleet.judge.score import weights

RNG = np.random.default_rng(99)
LATENCY = {"Name": "latency", "MetricName": "ModelLatency", "Test": "MANN_WHITNEY", "Direction": "INCREASE"}
ERRORS = {
    "Name": "errors",
    "MetricName": "Invocation5XXErrors",
    "Test": "SEQUENTIAL_PROPORTION",
    "Direction": "INCREASE",
}
MODEL_ERRORS = {**ERRORS, "Name": "model_errors", "MetricName": "InvocationModelErrors"}


def config(*metrics: dict[str, Any], **judge: Any) -> JudgeConfig:
    return JudgeConfig.model_validate({"Metrics": list(metrics), **judge})


def latency(factor: float = 1.0, n: int = 300) -> MetricSamples:
    return MetricSamples(RNG.lognormal(3, 0.4, 2 * n), RNG.lognormal(3, 0.4, n) * factor)


def errors(blue: int, green: int, trials: int = 2000) -> MetricSamples:
    return MetricSamples(Counts(trials, blue), Counts(trials, green))


def verdict_of(report: JudgeReport, name: str) -> MetricReport:
    metric = report.metric(name)
    assert metric is not None
    return metric


def look(
    cfg: JudgeConfig,
    samples: dict[str, MetricSamples],
    previous: JudgeReport | None = None,
    judgement: bool = True,
    at: float = 100.0,
    window: float = 0.0,
) -> JudgeReport:
    return evaluate(cfg, samples, at=at, window_start=window, judgement=judgement, previous=previous)


def test_all_pass_continues() -> None:
    report = look(
        config(LATENCY, ERRORS, MODEL_ERRORS),
        {"latency": latency(), "errors": errors(20, 10), "model_errors": errors(20, 21)},
    )
    assert [m.verdict for m in report.metrics] == [Verdict.PASS] * 3
    assert (report.score, report.classification, report.decision) == (100.0, ScoreClass.PASS, Decision.CONTINUE)
    assert report.reason == "score 100 (PASS)"


def test_one_of_three_failing_is_marginal_and_holds() -> None:
    report = look(
        config(LATENCY, ERRORS, MODEL_ERRORS),
        {"latency": latency(), "errors": errors(20, 20), "model_errors": errors(20, 80)},
    )
    assert (report.score, report.classification, report.decision) == (66.67, ScoreClass.MARGINAL, Decision.HOLD)
    assert report.reason == "score 66.67 (MARGINAL): model_errors HIGH"


def test_a_critical_failure_forces_zero() -> None:
    cfg = config({**LATENCY, "Critical": True}, ERRORS, MODEL_ERRORS)
    report = look(cfg, {"latency": latency(3.0), "errors": errors(20, 20), "model_errors": errors(20, 20)})
    assert (report.score, report.decision) == (0.0, Decision.ROLLBACK)
    assert report.reason == "score 0 (FAIL): latency HIGH (critical)"


def test_weights() -> None:
    cfg = config({**LATENCY, "Weight": 60}, ERRORS, MODEL_ERRORS)
    assert weights(cfg) == {"latency": 60.0, "errors": 20.0, "model_errors": 20.0}
    report = look(cfg, {"latency": latency(3.0), "errors": errors(20, 20), "model_errors": errors(20, 20)})
    assert report.score == 40.0 and report.decision is Decision.ROLLBACK  # < MarginalScore 50


def test_interim_looks_count_only_always_valid_metrics() -> None:
    cfg = config({**LATENCY, "Critical": True}, ERRORS)
    report = look(cfg, {"latency": latency(3.0), "errors": errors(20, 20)}, judgement=False)
    latency_report = report.metric("latency")
    assert latency_report is not None and latency_report.verdict is Verdict.PENDING and not latency_report.counted
    assert (latency_report.control_n, latency_report.experiment_n) == (600, 300)
    assert latency_report.estimate is None  # tested at the judgement point only
    assert report.decision is Decision.CONTINUE and report.reason == "interim look"


def test_interim_rolls_back_only_when_the_judgement_is_sure_to_fail() -> None:
    cfg = config(LATENCY, ERRORS, MODEL_ERRORS)
    one = look(cfg, {"latency": latency(), "errors": errors(20, 90), "model_errors": errors(20, 20)}, judgement=False)
    assert one.decision is Decision.CONTINUE  # best case: latency passes -> 66.67
    two = look(cfg, {"latency": latency(), "errors": errors(20, 90), "model_errors": errors(20, 90)}, judgement=False)
    assert two.decision is Decision.ROLLBACK  # best case 33.33
    assert two.reason.startswith("score 33.33 (FAIL) whatever is still open: errors HIGH, model_errors HIGH")
    critical = config(LATENCY, {**ERRORS, "Critical": True})
    assert look(critical, {"errors": errors(20, 90)}, judgement=False).decision is Decision.ROLLBACK


def test_running_minimum_is_carried_and_sticky_within_a_window() -> None:
    cfg = config(ERRORS)
    bad = look(cfg, {"errors": errors(20, 90)}, judgement=False, at=10)
    errors_bad = bad.metric("errors")
    assert errors_bad is not None and errors_bad.verdict is Verdict.HIGH
    later = look(cfg, {"errors": errors(40, 40, trials=4000)}, previous=bad, at=20)  # looks fine now
    carried = later.metric("errors")
    assert carried is not None and carried.verdict is Verdict.HIGH and carried.p_high_min == errors_bad.p_high_min
    fresh = look(cfg, {"errors": errors(40, 40, trials=4000)}, previous=bad, at=20, window=15.0)
    assert verdict_of(fresh, "errors").verdict is Verdict.PASS


def test_no_data_is_neither_pass_nor_fail_until_the_limit() -> None:
    cfg = config(LATENCY, ERRORS, NoDataLimit=2)
    samples = {"errors": errors(20, 20), "latency": latency(n=10)}  # 10 < MinSamples 50
    reports = []
    previous = None
    for at in (10.0, 20.0, 30.0):
        previous = look(cfg, samples, previous=previous, at=at)
        reports.append(previous)
    assert [verdict_of(r, "latency").verdict for r in reports] == [
        Verdict.NODATA,
        Verdict.NODATA,
        Verdict.NODATA_FAIL,
    ]
    assert [r.decision for r in reports] == [Decision.CONTINUE, Decision.CONTINUE, Decision.HOLD]
    assert [r.score for r in reports] == [100.0, 100.0, 50.0]
    interim = look(cfg, samples, previous=reports[0], judgement=False)
    assert verdict_of(interim, "latency").nodata_count == 1


def test_no_data_anywhere_holds_and_must_have_data_holds() -> None:
    cfg = config(LATENCY, ERRORS)
    assert look(cfg, {}).decision is Decision.HOLD
    assert look(cfg, {}).reason == "no data for any metric"
    required = config({**LATENCY, "MustHaveData": True}, ERRORS)
    report = look(required, {"errors": errors(20, 20)})
    assert report.decision is Decision.HOLD and report.reason == "score 100 (PASS); waiting for data: latency"


def test_critical_no_data_past_the_limit_rolls_back() -> None:
    cfg = config({**LATENCY, "Critical": True}, ERRORS, NoDataLimit=0)
    report = look(cfg, {"errors": errors(20, 20)})
    assert report.decision is Decision.ROLLBACK and "latency NODATA_FAIL (critical)" in report.reason


def test_sequential_mean_takes_moments_or_values() -> None:
    metric = {
        "Name": "score",
        "MetricName": "Score",
        "Namespace": "MyApp",
        "Test": "SEQUENTIAL_MEAN",
        "Direction": "DECREASE",
    }
    cfg = config(metric)
    blue, green = RNG.normal(0.8, 0.1, 2000), RNG.normal(0.7, 0.1, 2000)
    from_values = look(cfg, {"score": MetricSamples(blue, green)})
    from_moments = look(cfg, {"score": MetricSamples(Moments.of(blue), Moments.of(green))})
    assert from_values.metrics == from_moments.metrics
    assert from_values.metrics[0].verdict is Verdict.LOW


def test_samples_must_fit_the_test() -> None:
    with pytest.raises(TypeError, match="SEQUENTIAL_PROPORTION needs Counts"):
        look(config(ERRORS), {"errors": MetricSamples([1.0] * 300, [1.0] * 300)})
    with pytest.raises(TypeError, match="MANN_WHITNEY cannot use Counts"):
        look(config(LATENCY), {"latency": MetricSamples(Counts(100, 1), Counts(100, 1))})


def test_alpha_is_split_across_sequential_metrics() -> None:
    cfg = config(LATENCY, ERRORS, MODEL_ERRORS, {**ERRORS, "Name": "custom", "Alpha": 0.01})
    assert [cfg.metric_alpha(m) for m in cfg.Metrics[1:]] == [0.025, 0.025, 0.01]


def test_report_survives_json() -> None:
    report = look(
        config({**LATENCY, "MinSamples": 2}, ERRORS),
        {"latency": MetricSamples(np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])), "errors": errors(1, 2)},
    )
    latency_report = report.metric("latency")
    assert latency_report is not None and latency_report.lower is None  # unbounded at 98 % with 3 + 3 samples
    assert JudgeReport.model_validate_json(report.model_dump_json()) == report


def test_values_from_bins() -> None:
    assert list(values_from_bins([(1.5, 2.0), (3.0, 0.2), (4.0, 1.0)])) == [1.5, 1.5, 4.0]


def test_aa_through_evaluate_rarely_rolls_back() -> None:
    """200 A/A deployments, 30 interim looks and 3 judgement points each, through evaluate()."""
    cfg = config(
        {**LATENCY, "Critical": True, "AllowedIncrease": 1.1, "CriticalIncrease": 1.2},
        {**ERRORS, "Critical": True},
        MODEL_ERRORS,
    )
    rng = np.random.default_rng(4)
    rolled_back = 0
    for _ in range(200):
        blue_lat, green_lat = [], []
        counts = {"errors": [0, 0, 0, 0], "model_errors": [0, 0, 0, 0]}
        previous = None
        for tick in range(1, 31):
            blue_lat.append(rng.lognormal(3, 0.4, 40))
            green_lat.append(rng.lognormal(3, 0.4, 10))
            for c in counts.values():
                c[0] += 200
                c[1] += int(rng.binomial(200, 0.02))
                c[2] += 50
                c[3] += int(rng.binomial(50, 0.02))
            samples = {
                "latency": MetricSamples(np.concatenate(blue_lat), np.concatenate(green_lat)),
                **{k: MetricSamples(Counts(c[0], c[1]), Counts(c[2], c[3])) for k, c in counts.items()},
            }
            previous = look(cfg, samples, previous=previous, judgement=tick % 10 == 0, at=float(tick))
            if previous.decision is Decision.ROLLBACK:
                rolled_back += 1
                break
    assert rolled_back / 200 <= 0.05
