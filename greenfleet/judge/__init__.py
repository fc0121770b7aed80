"""The relative canary judge: green against blue over the same window, pure statistics (no I/O, no clock).

config.py       JudgeConfig / MetricConfig (DeploymentConfig.GreenfleetRollout.Judge), judge_problems
samples.py      Counts, Moments, MetricSamples: what the driver collects for each metric
shift.py        Hodges-Lehmann shift and its interval from order statistics of pairwise differences
mannwhitney.py  Kayenta's classifier: Mann-Whitney U + HL interval, tolerance, direction -> PASS/HIGH/LOW
sequential.py   always-valid mSPRT / confidence sequence for rates and means (one-sided, with a margin)
score.py        weighted score, PASS / MARGINAL / FAIL, CONTINUE / HOLD / ROLLBACK
judgement.py    evaluate(config, samples, previous, ...) -> JudgeReport
report.py       Verdict, Decision, ScoreClass, MetricReport, JudgeReport (persisted with the deployment)

What green is compared with (issue 21; greenfleet/rollout/baseline.py, bench/judge_aa.py)
-----------------------------------------------------------------------------------------
An identical green judged against the serving fleet (blue) was rolled back in 7 of 8 runs on real models
(XGBoost, 25 % canary on one instance, 8 users with 30 ms exponential think time, 2 cores): green's median
ModelLatency was 1.20-1.41x blue's. The cause, measured with ``bench/judge_aa.py --probe`` / ``--gaps`` on
this 2-core machine shared with other jobs (load average 5-15 throughout, so figures vary run to run):

1. Load asymmetry, both ways. A process's time per call depends on how busy it is. In one process with no
   HTTP (``--gaps``, load 10-12), with calls 0.5 / 2 / 8 / 16 ms apart: XGBoost on one thread 0.33 / 0.34
   / 0.50 / 0.68 ms a call, the 10-tree forest 0.79 / 0.80 / 0.98 / 1.15 ms: a less busy process wakes up
   colder (caches, CPU frequency, the scheduler) and pays for it. That is the issue's direction: green at
   25 % on one instance sees ~16 ms between calls, blue at 75 % ~5 ms, i.e. 1.3-1.6x per call by these
   figures against the 1.20-1.41x observed. When the host is overloaded the other way wins: the busy fleet
   queues. Judged against blue at 25 % on this machine at load 5-12, an identical green's median
   ModelLatency was 0.48-1.00x blue's in 12 runs (median 0.75; Mann-Whitney p < 0.01 in 6), i.e.
   significantly *faster*; Direction INCREASE let them pass, EITHER would have rolled most back. Either
   way the comparison measures the traffic split, not the model.
2. XGBoost on every core (its default) in each instance magnifies it: 0.57 / 5.0 / 21.7 / 37.3 ms a call
   at the same gaps (its OpenMP threads fall asleep between calls and each call waits for them on cores
   other processes hold); in an earlier run 9-15 ms at 0.5-2 ms gaps against 0.16-0.18 ms on one thread.
   Behind the router the instances' medians were 59-294 ms, the busier one saturated (quiet/busy 0.25-0.40
   at 25/75). greenfleet's XGBoost runtime now predicts on OMP_NUM_THREADS threads, 1 by default: medians
   0.8-2.7 ms in the same probe.
3. Cold start: not a consistent effect at this resolution. Over the first 3 s after InService against
   the next 8 s, a variant's median ModelLatency was 0.54-1.52x (8 probes, XGBoost on one thread and a
   10-tree forest; both ways, busy and quiet variants alike); the worker loads the model before it
   reports ready. Hence warm-up is an option, off by default.
4. What remains is the spread between two identical processes at the same share on a busy host: 50/50
   probes gave 0.91-1.30 between the two (25/75: 0.94-1.13; load 6-9). One instance a side cannot
   average it out; the judge's AllowedIncrease (effect size on the mean) is what keeps it from rolling
   back, and at load 10 and more it does not always (see bench/README.md).

The fix (``Judge.Baseline``, default FRESH where the plan allows it and some judged step gives green less
than 50 %; at an even 50/50 split the baseline only added a second cold process, and the live A/A test at
50 % failed with one in 2 of 3 series of 20 where it passes against blue): Kayenta's canary/baseline pattern. A
fresh copy of blue's config is started beside green with green's instance counts, given green's share
(taken from blue) in every judged step, and green is compared with it; it is stopped after the last
judged step and with the deployment (success or rollback). Its invocations count in the endpoint's
per-variant metrics like any other, but its per-config series are its own (EndpointConfigName
``<blue config>@baseline``). Refused where it cannot work: a rolling deployment, or a judged step giving
green more than 50 % (the baseline takes as much). ``Baseline: PRODUCTION`` keeps the old comparison with
blue. ``WarmUpInSeconds`` / ``WarmUpInvocations`` leave each side's first seconds / invocations after
green takes traffic out of the judged samples; the report says which fleets were compared (``compared``)
and what was left out (``excluded``), and ``greenfleet deployment describe`` shows both. Measured
(bench/README.md has the tables; load 6-15): A/A at 25 % on one instance, green/baseline median ratio
0.68-1.57 over 12 runs (median 0.96), 11 promoted, one forest run rolled back at 1.35 (load 10); against
blue the ratio was 0.48-1.00 (median 0.75, p < 0.01 in 6 of 12). A/A at 10 % and 50 % on two instances: 1.08
and 1.15, promoted. A green doing 1.5x the compute: rolled back at 1.58 and 1.27 (10 %, 50 %, two
instances). A green failing 5 % of calls: rolled back by the error test once its bake gave it ~450 calls a
side (20 s), not with 8 s (~165 calls: NODATA).

Where to start::

    "Judge": {"Metrics": [
        {"Name": "latency", "MetricName": "ModelLatency", "Test": "MANN_WHITNEY", "Direction": "INCREASE",
         "Critical": true, "AllowedIncrease": 1.2},
        {"Name": "errors", "MetricName": "InvocationModelErrors", "Test": "SEQUENTIAL_PROPORTION",
         "Direction": "INCREASE", "Critical": true}]}

with Steps of at most 50 % and a bake long enough for ~500 invocations a side (the default
Baseline is then FRESH below 50 %). Where every judged step is 50 % on a busy host (the control is then blue, a
process that has been serving for minutes, against a green started seconds ago) add ``"WarmUpInSeconds": 3`` or
ask for ``"Baseline": "FRESH"``: on one instance a side at load 5-7 the forest A/A was promoted 16/20 by default
(green 1.21-1.38x slower in the four rollbacks, never faster); at load ~3, 20/20 by default, with warm-up and
with FRESH alike, FRESH the tightest (bench/README.md, "The whole grid"). Keep Direction
INCREASE for latency: on a shared host the spread between two identical processes is tens of percent either way,
and EITHER would also reject a faster green. A heavier model is only visible if its compute is most of
ModelLatency: a call's fixed cost (HTTP, the worker, the runtime, the library's per-call set-up) is in both
sides, so 1.5x the compute of a model that predicts for 1.4 ms of a 6 ms call is ~1.2x latency and sits on
AllowedIncrease 1.2 (rolled back 10/20), while 1.5x the compute of a ~28 ms call was 1.22-1.58x (median 1.43)
and rolled back 19/20. Judged like this, with 20 runs per config on 2 cores: A/A promoted ≥ 19/20 for XGBoost
and a RandomForest at 10, 25 and 50 % on one and two instances a side; a green failing 5 % of calls rolled back
by the error test 20/20 with a 20 s bake (~450 calls a side).
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
