"""constraint_violations.json: each SageMaker check type fires on its condition and only then."""

from __future__ import annotations

import numpy as np

from greenfleet.monitoring import baseline, evaluate, read_dataset


def dataset(n: int, shift: float = 0.0, seed: int = 0, states: tuple[str, ...] = ("CA", "NY"),
            missing_every: int = 0, extra: bool = False, drop_state: bool = False) -> bytes:
    rng = np.random.default_rng(seed)
    lines = []
    for i in range(n):
        x = "" if missing_every and i % missing_every == 0 else f"{rng.normal(shift, 1):.4f}"
        row = [x, str(int(rng.integers(0, 10)))]
        if not drop_state:
            row.append(str(rng.choice(states)))
        if extra:
            row.append("1")
        lines.append(",".join(row))
    return "\n".join(lines).encode()


def checks(data: bytes, base: bytes | None = None) -> list[tuple[str, str]]:
    reference = baseline(base or dataset(2000, seed=1), "csv")
    result = evaluate(read_dataset(data, "csv"), reference.constraints, reference.statistics)
    return sorted((v["feature_name"], v["constraint_check_type"]) for v in result.violations)


def test_same_distribution_has_no_violations() -> None:
    assert checks(dataset(2000, seed=7)) == []


def test_shifted_numbers_drift() -> None:
    assert checks(dataset(2000, shift=1.0, seed=7)) == [("_c0", "baseline_drift_check")]


def test_new_categories_violate_domain_and_drift() -> None:
    found = checks(dataset(2000, seed=7, states=("TX", "NY")))
    assert ("_c2", "categorical_values_check") in found and ("_c2", "baseline_drift_check") in found


def test_missing_values_violate_completeness() -> None:
    assert ("_c0", "completeness_check") in checks(dataset(2000, seed=7, missing_every=10))


def test_extra_and_missing_columns() -> None:
    assert checks(dataset(500, seed=7, extra=True)) == [("_c3", "extra_column_check")]
    assert checks(dataset(500, seed=7, drop_state=True)) == [("_c2", "missing_column_check")]


def test_type_violations_above_threshold() -> None:
    rows = "\n".join(f"{'abc' if i % 5 == 0 else '1.5'},1,CA" for i in range(1000)).encode()
    assert ("_c0", "data_type_check") in checks(rows)


def test_evaluate_constraints_disabled_reports_figures_only() -> None:
    reference = baseline(dataset(2000, seed=1), "csv")
    reference.constraints["monitoring_config"]["evaluate_constraints"] = "Disabled"
    result = evaluate(read_dataset(dataset(2000, shift=1.0, seed=7), "csv"), reference.constraints,
                      reference.statistics)
    assert result.violations == []
    drift = {f.name: f.drift for f in result.figures}
    assert drift["_c0"] is not None and drift["_c0"] > 0.3
