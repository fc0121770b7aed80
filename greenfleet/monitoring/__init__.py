"""Model Monitor: data-quality baselines (``statistics.json``, ``constraints.json``), checks of captured
data against them (``constraint_violations.json``), monitoring schedules and their executions."""

from greenfleet.monitoring.baseline import Baseline, baseline
from greenfleet.monitoring.dataset import DatasetError, Table, captured_table, read_dataset
from greenfleet.monitoring.violations import Evaluation, evaluate

__all__ = ["Baseline", "DatasetError", "Evaluation", "Table", "baseline", "captured_table", "evaluate",
           "read_dataset"]
