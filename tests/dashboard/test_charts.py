"""The dashboard's chart and sparkline numbers, read from a real metric store (SQLite, fake clock)."""

from __future__ import annotations

from greenfleet.clock import FakeClock
from greenfleet.dashboard.charts import Series, chart_data, endpoint_series, sums
from greenfleet.dashboard.overview import sparkline
from tests.observability_support import ServicesFactory


def test_chart_data_per_variant_and_config_per_second(sqlite_engine: object, make_services: ServicesFactory,
                                                      clock: FakeClock) -> None:
    metrics = make_services(sqlite_engine).metrics
    t0 = clock.now()
    rec = metrics.recorder
    for _ in range(3):
        rec.record_invocation("shop", "main", "c1", "i-1", "ok", 2000.0, 100.0, t0)
    rec.record_invocation("shop", "main", "c1", "i-1", "server_5xx", None, 300.0, t0)
    rec.record_invocation("shop", "main", "c2", "i-2", "client_4xx", None, 50.0, t0 + 1)
    rec.record_invocation("other", "main", "c1", "i-3", "ok", 9000.0, 100.0, t0)
    clock.advance(3)
    metrics.flush(clock.now())
    series = [Series("shop", "main", "c1"), Series("shop", "main", "c2")]
    data = chart_data(metrics, series, clock.now(), window_s=5)
    assert data["timestamps"] == list(range(int(t0) - 3, int(t0) + 2))  # the newest second left out
    old, new = data["series"]
    assert old["label"] == "main (c1)" and new["label"] == "main (c2)"
    at = data["timestamps"].index(int(t0))
    assert old["values"]["Invocations"][at] == 4 and old["values"]["Invocation5XXErrors"][at] == 1
    assert old["values"]["Invocations"][at + 1] == 0  # nothing recorded: zero calls, not a gap
    assert abs(old["values"]["ModelLatency p50"][at] - 2.0) < 0.05  # milliseconds, DDSketch's 1 %
    assert old["values"]["ModelLatency p50"][at + 1] is None
    assert new["values"]["Invocation4XXErrors"][at + 1] == 1 and new["values"]["Invocations"][at] == 0


def test_sums_add_up_an_endpoints_variants(sqlite_engine: object, make_services: ServicesFactory,
                                           clock: FakeClock) -> None:
    metrics = make_services(sqlite_engine).metrics
    t0 = clock.now()
    for variant, outcome in (("a", "ok"), ("a", "ok"), ("b", "model_error_5xx"), ("b", "client_4xx")):
        metrics.recorder.record_invocation("shop", variant, "c1", "i", outcome, 1000.0, 10.0, t0)
    clock.advance(10)
    metrics.flush(clock.now())
    totals = sums(metrics, [("shop", [Series("shop", "a", None), Series("shop", "b", None)]), ("idle", [])],
                  clock.now(), window_s=20, period=10)
    calls, errors = totals["shop"]
    assert sum(calls) == 4 and sum(errors) == 2 and len(calls) == 2
    assert "idle" not in totals


def test_endpoint_series_include_the_new_fleet_while_deploying() -> None:
    described = {"EndpointName": "shop", "EndpointConfigName": "c1", "ProductionVariants": [{"VariantName": "main"}],
                 "PendingDeploymentSummary": {"EndpointConfigName": "c2", "ProductionVariants": [
                     {"VariantName": "main"}, {"VariantName": "extra"}]}}
    assert [s.label for s in endpoint_series(described)] == ["main (c1)", "main (c2)", "extra (c2)"]
    del described["PendingDeploymentSummary"]
    assert [s.label for s in endpoint_series(described)] == ["main (c1)"]


def test_sparkline_shares_one_scale_and_totals() -> None:
    line = sparkline([0.0, 10.0, 5.0], [0.0, 5.0, 0.0])
    assert line.total_calls == 15 and line.total_errors == 5
    assert line.calls.split()[1] == "60.0,1.0" and line.errors.split()[1] == "60.0,14.0"
