"""The relative canary judge: green against blue over the same window, pure statistics (no I/O, no clock).

config.py       JudgeConfig / MetricConfig (DeploymentConfig.GreenfleetRollout.Judge), judge_problems
samples.py      Counts, Moments, MetricSamples: what the driver collects for each metric
shift.py        Hodges-Lehmann shift and its interval from order statistics of pairwise differences
mannwhitney.py  Kayenta's classifier: Mann-Whitney U + HL interval, tolerance, direction -> PASS/HIGH/LOW
sequential.py   always-valid mSPRT / confidence sequence for rates and means (one-sided, with a margin)
score.py        weighted score, PASS / MARGINAL / FAIL, CONTINUE / HOLD / ROLLBACK
judgement.py    evaluate(config, samples, previous, ...) -> JudgeReport
report.py       Verdict, Decision, ScoreClass, MetricReport, JudgeReport (persisted with the deployment)
"""

from greenfleet.judge.config import JudgeConfig, MetricConfig, judge_problems
from greenfleet.judge.judgement import evaluate
from greenfleet.judge.report import Decision, JudgeReport, MetricReport, ScoreClass, Verdict
from greenfleet.judge.samples import Counts, MetricSamples, Moments, values_from_bins

__all__ = [
    "Counts",
    "Decision",
    "JudgeConfig",
    "JudgeReport",
    "MetricConfig",
    "MetricReport",
    "MetricSamples",
    "Moments",
    "ScoreClass",
    "Verdict",
    "evaluate",
    "judge_problems",
    "values_from_bins",
]
