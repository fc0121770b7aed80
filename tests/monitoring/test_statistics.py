"""statistics.json, constraints.json and the distances, against the reference formats and numpy/scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import ks_2samp

from greenfleet.monitoring import baseline
from greenfleet.monitoring.constraints import feature_config, suggest_constraints
from greenfleet.monitoring.distance import linf_categorical, linf_numeric, robust
from greenfleet.monitoring.statistics import SKETCH_K, sketch_levels


def csv(rows: list[tuple[object, ...]], header: str) -> bytes:
    return (header + "\n" + "\n".join(",".join("" if v is None else str(v) for v in row) for row in rows)).encode()


def test_numeric_and_string_statistics_match_the_reference_shape() -> None:
    rng = np.random.default_rng(1)
    ages = rng.integers(18, 91, size=1000)
    heights = rng.normal(170, 10, size=1000)
    states = rng.choice(["CA", "NY", "TX"], size=1000, p=[0.6, 0.3, 0.1])
    rows: list[tuple[object, ...]] = [(int(a), f"{h:.3f}", s, "")
                                      for a, h, s in zip(ages, heights, states, strict=True)]
    rows[5] = (None, rows[5][1], rows[5][2], "")
    result = baseline(csv(rows, "age,height,state,empty"), "csv", header=True)
    stats = result.statistics
    assert stats["version"] == 0 and stats["dataset"] == {"item_count": 1000}
    age, height, state, empty = stats["features"]
    assert (age["name"], age["inferred_type"]) == ("age", "Integral")
    numbers = age["numerical_statistics"]
    present = np.delete(ages, 5)
    assert numbers["common"] == {"num_present": 999, "num_missing": 1}
    assert numbers["sum"] == int(present.sum()) and isinstance(numbers["sum"], int)
    assert numbers["mean"] == pytest.approx(present.mean()) and numbers["std_dev"] == pytest.approx(present.std())
    assert (numbers["min"], numbers["max"]) == (int(present.min()), int(present.max()))
    kll = numbers["distribution"]["kll"]
    assert len(kll["buckets"]) == 10 and sum(b["count"] for b in kll["buckets"]) == 999
    assert kll["buckets"][0]["lower_bound"] == present.min() and kll["buckets"][-1]["upper_bound"] == present.max()
    assert kll["sketch"]["parameters"]["k"] == SKETCH_K
    assert sum(len(level) * 2**h for h, level in enumerate(kll["sketch"]["data"])) == 999
    assert height["inferred_type"] == "Fractional"
    strings = state["string_statistics"]
    assert state["inferred_type"] == "String" and strings["distinct_count"] == 3
    counts = {b["value"]: b["count"] for b in strings["distribution"]["categorical"]["buckets"]}
    assert counts == {s: int((states == s).sum()) for s in ("CA", "NY", "TX")}
    assert empty["inferred_type"] == "Unknown"

    constraints = result.constraints
    assert constraints["version"] == 0
    by_name = {f["name"]: f for f in constraints["features"]}
    assert by_name["age"]["completeness"] == pytest.approx(0.999)
    assert by_name["state"]["string_constraints"] == {"domains": ["CA", "NY", "TX"]}
    assert "string_constraints" not in by_name["height"]
    config = constraints["monitoring_config"]
    assert config["datatype_check_threshold"] == config["domain_content_threshold"] == 0.1
    assert config["distribution_constraints"]["categorical_drift_method"] == "LInfinity"


def test_a_stray_string_makes_the_feature_a_string_and_fractions_fractional() -> None:
    stats = baseline(b"a,b\n1,1\n2,2.5\nx,3\n", "csv", header=True).statistics
    assert [f["inferred_type"] for f in stats["features"]] == ["String", "Fractional"]


def test_kll_sketch_distance_is_close_to_the_exact_ks_statistic() -> None:
    rng = np.random.default_rng(2)
    a, b = rng.normal(0, 1, 50_000), rng.normal(0.3, 1, 50_000)
    exact = ks_2samp(a, b).statistic
    assert linf_numeric(sketch_levels(a), sketch_levels(b)) == pytest.approx(exact, abs=0.01)
    assert linf_numeric(sketch_levels(a), sketch_levels(a)) < 0.01  # KLL compaction is randomised


def test_robust_distance_subtracts_the_critical_value() -> None:
    # c = sqrt(-ln(0.0015)/2) = 1.8030; sqrt((100+100)/(100*100)) = 0.14142
    assert robust(0.3, 100, 100) == pytest.approx(0.3 - 1.8030 * 0.141421, abs=1e-4)
    assert robust(0.1, 100, 100) == 0.0


def test_categorical_distance_is_linf_of_frequencies() -> None:
    assert linf_categorical({"a": 60, "b": 40}, {"a": 30, "b": 60, "c": 10}) == pytest.approx(0.3)


def test_categorical_threshold_defaults_to_comparison_threshold_and_overrides_apply() -> None:
    constraints = {"monitoring_config": {"distribution_constraints": {"comparison_threshold": 0.3}},
                   "features": []}
    assert feature_config(constraints, {})["distribution_constraints"]["categorical_comparison_threshold"] == 0.3
    overridden = feature_config(constraints, {"monitoringConfigOverrides": {"datatype_check_threshold": 0.5}})
    assert overridden["datatype_check_threshold"] == 0.5
    suggested = suggest_constraints({"features": []})
    assert feature_config(suggested, {})["distribution_constraints"]["comparison_method"] == "Robust"
