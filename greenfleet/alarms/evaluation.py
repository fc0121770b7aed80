"""How an alarm's state follows from its data points: CloudWatch's documented rules, as a pure function.

The evaluation range
--------------------
CloudWatch's guide ("Configuring how CloudWatch alarms treat missing data", section "How alarm state is
evaluated when data is missing") says, in substance: whatever the missing-data setting, when an alarm
evaluates whether to change state, CloudWatch attempts to retrieve a higher number of data points than
Evaluation Periods; the time frame of the data points it attempts to retrieve is the *evaluation range*.
Its example tables use Evaluation Periods 3 and an evaluation range of 5 data points. The exact size is not
documented ("depends on the length of the alarm period and whether it is based on a metric with standard
resolution or high resolution"); greenfleet uses **EvaluationPeriods + 2** periods for every alarm
(``EXTRA_PERIODS``), which is the documented example, ending with the latest complete period.

Then, in the guide's words (paraphrased):

1. If no data points in the evaluation range are missing, the alarm is evaluated on the most recent data
   points collected (as many as Evaluation Periods).
2. If some are missing but at least Evaluation Periods real points were retrieved, the alarm is evaluated on
   the most recent real points; the missing-data setting is not needed and ignored.
3. If fewer real points than Evaluation Periods were retrieved, CloudWatch fills in the missing data points
   with the result specified for how to treat missing data, then evaluates; all real points in the range
   are included, and "CloudWatch uses missing data points only as few times as possible".

"In all of these situations, the number of datapoints evaluated is equal to the value of Evaluation
Periods. If fewer than the value of Datapoints to Alarm are breaching, the alarm state is set to OK.
Otherwise, the state is set to ALARM." For ``breaching`` and ``notBreaching`` that is all. For ``missing``
and ``ignore`` a filled point is neither breaching nor not breaching; the documented example tables (encoded
as tests in tests/alarms/test_documented_table.py) fix the outcome, which greenfleet implements as:

- no real point in the range: ``missing`` → INSUFFICIENT_DATA, ``ignore`` → keep the current state
  (``breaching`` → ALARM, ``notBreaching`` → OK);
- at least Datapoints to Alarm real points breaching → ALARM;
- else at least one real point not breaching → OK;
- else (only breaching real points, fewer than Datapoints to Alarm): ``ignore`` keeps the current state;
  ``missing`` gives ALARM when the oldest breaching point is at least Datapoints to Alarm periods old (the
  newest period counting as 1) — the AWS knowledge-center article "Why did my CloudWatch alarm send me a
  notification after a single breached data point?" states this case: an ALARM "when the oldest available
  breaching data point in the alarm's evaluation range is at least as old as the value of Datapoints to
  Alarm, and all other more recent data points are breaching or missing", even with missing data treated
  as missing — and INSUFFICIENT_DATA otherwise.

A new alarm starts in INSUFFICIENT_DATA ("Unchecked: Initial alarm creation") and leaves it at its first
evaluation whose outcome is OK or ALARM. As the guide notes, a consequence of the evaluation range is that
an alarm keeps re-evaluating its last real points for a while after a metric stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from greenfleet.alarms.spec import ALARM, INSUFFICIENT_DATA, OK

EXTRA_PERIODS = 2


class Decision(NamedTuple):
    state: str | None  # None: keep the current state
    evaluated: tuple[int, ...]  # indexes (oldest first) of the real points that were evaluated
    filled: int  # missing points filled in with the TreatMissingData setting
    breaching: int  # breaching points among the evaluated and filled ones
    rule: str  # "data", "filled", "no_data", "unknown", "aged_breach"


def evaluation_range(evaluation_periods: int) -> int:
    return evaluation_periods + EXTRA_PERIODS


def decide(marks: Sequence[bool | None], evaluation_periods: int, datapoints_to_alarm: int,
           treat_missing_data: str) -> Decision:
    """The state for the evaluation range ``marks`` (oldest first; True breaching, False not breaching,
    None missing)."""
    n, m = evaluation_periods, datapoints_to_alarm
    present = [i for i, mark in enumerate(marks) if mark is not None]
    if len(present) >= n:
        used = tuple(present[-n:])
        breaching = sum(1 for i in used if marks[i])
        return Decision(ALARM if breaching >= m else OK, used, 0, breaching, "data")
    used = tuple(present)
    breaching = sum(1 for i in used if marks[i])
    fill = n - len(used)
    if treat_missing_data in ("breaching", "notBreaching"):
        total = breaching + (fill if treat_missing_data == "breaching" else 0)
        return Decision(ALARM if total >= m else OK, used, fill, total, "filled")
    if not used:
        state = INSUFFICIENT_DATA if treat_missing_data == "missing" else None
        return Decision(state, used, 0, 0, "no_data")
    if breaching >= m:
        return Decision(ALARM, used, 0, breaching, "data")
    if breaching < len(used):
        return Decision(OK, used, 0, breaching, "data")
    if treat_missing_data == "missing" and len(marks) - used[0] >= m:
        return Decision(ALARM, used, 0, breaching, "aged_breach")
    state = INSUFFICIENT_DATA if treat_missing_data == "missing" else None
    return Decision(state, used, 0, breaching, "unknown")
