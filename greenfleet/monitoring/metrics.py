"""Per-feature data-quality figures of an execution as PutMetricData requests, in one namespace:
``/aws/sagemaker/Endpoints/data-metric`` (the docs' "interpreting CloudWatch" page; the BYOC page names
another) with dimensions ``EndpointName`` and ``ScheduleName``:

- ``feature_baseline_drift_{feature}``: the baseline_drift_check distance;
- ``feature_non_null_{feature}``: completeness (fraction of values present);
- ``feature_data_{feature}``: the values of a numeric feature (Minimum, Maximum, Sum, SampleCount);
- ``feature_type_violations_{feature}``: fraction of values not of the baseline's type (greenfleet's);
- ``missing_columns`` / ``extra_columns``: columns the baseline has and the data lacks, and vice versa.

Points are high resolution (continuous monitoring runs more often than once a minute), so alarms may
use periods from 10 s. Ordinary alarms on these metrics notify, or roll back a deployment that lists them."""

from __future__ import annotations

from typing import Any

from greenfleet.monitoring.violations import Evaluation

NAMESPACE = "/aws/sagemaker/Endpoints/data-metric"
MAX_DATUMS = 1000


def metric_requests(evaluation: Evaluation, endpoint: str, schedule: str, at: float) -> list[dict[str, Any]]:
    dims = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "ScheduleName", "Value": schedule}]

    def datum(name: str, **value: Any) -> dict[str, Any]:
        return {"MetricName": name[:255], "Dimensions": dims, "Timestamp": at, "Unit": "None",
                "StorageResolution": 1, **value}

    datums = [datum("missing_columns", Value=float(evaluation.missing_columns)),
              datum("extra_columns", Value=float(evaluation.extra_columns))]
    for figures in evaluation.figures:
        datums.append(datum(f"feature_non_null_{figures.name}", Value=figures.completeness))
        datums.append(datum(f"feature_type_violations_{figures.name}", Value=figures.type_violations))
        if figures.drift is not None:
            datums.append(datum(f"feature_baseline_drift_{figures.name}", Value=figures.drift))
        if figures.numbers is not None:
            count, total, low, high = figures.numbers
            datums.append(datum(f"feature_data_{figures.name}", StatisticValues={
                "SampleCount": float(count), "Sum": total, "Minimum": low, "Maximum": high}))
    return [{"Namespace": NAMESPACE, "MetricData": datums[i:i + MAX_DATUMS]}
            for i in range(0, len(datums), MAX_DATUMS)]
