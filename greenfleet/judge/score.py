"""The overall score, Kayenta's WeightedSumScorer and ThresholdScoreClassifier at metric level, and the
decision it leads to.

- Score = 100 · sum(weight of counted metrics that PASS) / sum(weight of counted metrics), 2 decimals.
  Counted: HIGH, LOW, PASS and NODATA_FAIL; NODATA is left out ("neither pass nor fail").
  Weights: a metric's Weight, else an equal share of what the weighted metrics leave of 100 (0 when
  they take all of it... then they alone count).
- A critical metric failing forces the score to 0 (Kayenta).
- Classification: score >= PassScore PASS, >= MarginalScore MARGINAL, else FAIL -> CONTINUE, HOLD, ROLLBACK.

Deviations from Kayenta, from the issue: no data is never a failure by itself (Kayenta forces 0 when half
the metrics have none); at a judgement point where nothing could be judged, or a MustHaveData metric has no
data, the decision is HOLD, and each such point counts toward NoDataLimit (judgement.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from greenfleet.judge.config import JudgeConfig
from greenfleet.judge.report import FAILING, Decision, MetricReport, ScoreClass, Verdict

__all__ = ["classify", "decision_for", "score", "weights"]


def weights(config: JudgeConfig) -> dict[str, float]:
    explicit = {m.Name: m.Weight for m in config.Metrics if m.Weight is not None}
    rest = [m.Name for m in config.Metrics if m.Weight is None]
    share = max(0.0, 100.0 - sum(explicit.values())) / len(rest) if rest else 0.0
    return {**explicit, **dict.fromkeys(rest, share)}


def score(reports: Sequence[MetricReport], weight: dict[str, float]) -> float | None:
    """None when no metric counts (or the counted ones weigh nothing)."""
    counted = [r for r in reports if r.counted]
    total = sum(weight.get(r.name, 0.0) for r in counted)
    if not counted or total <= 0:
        return None
    if any(r.critical and r.verdict in FAILING for r in counted):
        return 0.0
    passing = sum(weight.get(r.name, 0.0) for r in counted if r.verdict is Verdict.PASS)
    return round(100.0 * passing / total, 2)


def classify(value: float, config: JudgeConfig) -> ScoreClass:
    if value >= config.PassScore:
        return ScoreClass.PASS
    if value >= config.MarginalScore:
        return ScoreClass.MARGINAL
    return ScoreClass.FAIL


def decision_for(classification: ScoreClass) -> Decision:
    return {
        ScoreClass.PASS: Decision.CONTINUE,
        ScoreClass.MARGINAL: Decision.HOLD,
        ScoreClass.FAIL: Decision.ROLLBACK,
    }[classification]
