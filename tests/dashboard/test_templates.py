"""The deployment fragment with what the judge really reports (its pydantic models, dumped as
describe_deployment dumps them): every field the template names exists, and verdicts read as words."""

from __future__ import annotations

from greenfleet.dashboard.render import environment
from greenfleet.judge.report import Decision, JudgeReport, MetricReport, ScoreClass, Verdict


def test_the_judges_verdicts_render_with_words() -> None:
    latency = MetricReport(name="ModelLatency", test="mann-whitney", verdict=Verdict.HIGH, counted=True,
                           control_n=120, experiment_n=40, control_value=2.1, experiment_value=3.4,
                           message="green slower by 1.3 ms")
    report = JudgeReport(at=1_800_000_000.0, window_start=1_799_999_940.0, judgement=False, metrics=(latency,),
                         score=50.0, classification=ScoreClass.MARGINAL, decision=Decision.HOLD,
                         reason="score 50 (MARGINAL): latency HIGH")
    rollout = {"Strategy": "STEPS", "Phase": "BAKING", "Paused": False, "PromotedBy": None,
               "Steps": [{"Label": "step 1 of 1", "TrafficPercent": 100, "BakeInSeconds": 60, "RequireApproval": False,
                          "ChecksBeforeTraffic": [], "ChecksAfterBake": [], "Judged": True, "Current": True}],
               "Checks": [], "Judge": {"WindowStart": 1_799_999_940.0, "NextJudgementAt": 1_800_000_060.0,
                                       "Latest": report.model_dump(mode="json"), "LastJudgement": None}}
    deployment = {"DeploymentId": "d1", "Phase": "BAKING", "Strategy": "STEPS", "FromConfig": "c1", "ToConfig": "c2",
                  "StartTime": 1_799_999_900.0, "EndTime": None, "Outcome": None, "FailureReason": None,
                  "Rollout": rollout, "Shares": [], "Alarms": [], "Active": True, "Timeline": []}
    html = environment.get_template("deployment_live.html").render(name="shop", deployment=deployment)
    assert "HOLD</span> score 50 (MARGINAL): latency HIGH" in html
    assert 'status-bad"><span aria-hidden="true">✖</span> HIGH' in html
    assert "<td>2.1</td><td>3.4</td>" in html and "120 / 40" in html
    assert "Compares" not in html and ">Old fleet<" in html
    rollout["Judge"] = {**rollout["Judge"], "Compared": "green c2 (fleet 2) vs baseline: a fresh copy of c1 (fleet 3)",
                        "Baseline": {"FleetId": "3"}, "Excluded": ["green: the first 2 s (40 invocations) left out"]}
    html = environment.get_template("deployment_live.html").render(name="shop", deployment=deployment)
    assert "<strong>Compares</strong> green c2 (fleet 2) vs baseline: a fresh copy of c1 (fleet 3)" in html
    assert "Left out: green: the first 2 s (40 invocations) left out" in html and ">Baseline<" in html
