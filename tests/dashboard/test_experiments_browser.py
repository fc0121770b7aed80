"""The experiments pages in a real headless Chromium against a real server with real workers: a shadow test
of a different classifier, run on real traffic; the list shows it Running, its page the paired report
(latency percentiles and shift, errors, agreement with its confusion matrix, divergent inputs), all without
console errors. Screenshots land in screenshots/dashboard/ (git-ignored)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from greenfleet.server import Server
from tests.dashboard.browser import Browser, assert_clean, sign_in
from tests.dashboard.conftest import TOKEN
from tests.live.conftest import Api, features, sklearn_model  # noqa: F401 - fixtures
from tests.live.test_endpoints_live import csv_row
from tests.live.test_experiment_report_live import other_model, report_after, shadow_test

pytestmark = pytest.mark.slow


def test_shadow_test_list_and_report(browser: Browser, server: Server, api: Api, sklearn_model: Path,  # noqa: F811
                                     features: np.ndarray, tmp_path: Path) -> None:  # noqa: F811
    shadow_test(api, "shop", sklearn_model, other_model(tmp_path))
    report = report_after(api, "shop", features, 60)
    assert report["Predictions"]["Kind"] == "classification" and report["Predictions"]["MostDivergent"]
    sign_in(browser, server.settings.base_url, TOKEN)
    browser.css("nav a[href='/ui/experiments']").click()
    browser.wait(lambda: browser.text("h1") == "Inference experiments", what="the experiments page")
    row = browser.text("#experiments-heading + table tbody tr")
    assert "shop-test" in row and "ShadowMode" in row and "Running" in row, row
    browser.screenshot("20-experiments")
    assert_clean(browser)

    browser.css("#experiments-heading + table a[href='/ui/experiments/shop-test']").click()
    browser.wait(lambda: browser.text("h1") == "shop-test", what="the experiment's page")
    facts = browser.text("dl.facts")
    assert "Running" in facts and "shop" in facts and "cand" in facts, facts
    latency = browser.text("#latency-heading + table")
    assert latency.splitlines()[0].split() == ["Side", "p50", "p90", "p99"], latency
    assert "Lehmann shift" in browser.text("#latency-shift")
    assert "Agreement:" in browser.text("#agreement")
    matrix = browser.text("#confusion")
    assert "Production \\ Shadow" in matrix and "0" in matrix and "1" in matrix, matrix
    divergent = browser.all("#divergent-heading + table tbody tr")
    assert divergent and all(len(row.text.split()[0]) == 32 for row in divergent)  # each by its inference id
    errors = browser.text("#errors-heading + table")
    assert "Production" in errors and "Shadow" in errors, errors
    browser.screenshot("21-experiment")
    assert_clean(browser)


def test_ab_test_list_and_status(browser: Browser, server: Server, api: Api, sklearn_model: Path,  # noqa: F811
                                 features: np.ndarray) -> None:  # noqa: F811
    api.deploy("checkout", sklearn_model, {"a": (0.5, 1), "b": (0.5, 1)})
    api.call("POST", "/api/ab-tests", {"Name": "pricing", "EndpointName": "checkout", "VariantA": "a",
                                       "VariantB": "b", "MinimumSamples": 1000}, expect=201)
    deadline = time.monotonic() + 10
    while not server.router.table.get("checkout").record_assignments:  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    rng = np.random.default_rng(5)
    outcomes = []
    for index in range(60):
        response = api.invoke("checkout", csv_row(features, index))
        assert response.status_code == 200, response.text
        variant = response.headers["x-amzn-invoked-production-variant"]
        outcomes.append({"InferenceId": response.headers["x-amzn-sagemaker-inference-id"],
                         "Reward": rng.normal(1.2 if variant == "b" else 1.0, 0.5)})
    recorded = api.call("POST", "/api/endpoints/checkout/feedback", {"Outcomes": outcomes})
    assert recorded["Recorded"] == 60 and not recorded["Failed"], recorded  # each answer known at once
    sign_in(browser, server.settings.base_url, TOKEN)
    browser.css("nav a[href='/ui/experiments']").click()
    row = browser.wait(lambda: browser.text("#ab-tests-heading + table tbody tr"), what="the A/B tests table")
    assert "pricing" in row and "checkout" in row and "Running" in row, row
    browser.css("#ab-tests-heading + table a[href='/ui/ab-tests/pricing']").click()
    browser.wait(lambda: browser.text("h1") == "pricing", what="the A/B test's page")
    variants = browser.wait(lambda: (rows := browser.all("#ab-variants-heading + table tbody tr"))
                            and sum(int(r.text.split()[-4]) for r in rows) == 60 and rows,
                            what="both variants' samples")
    assert [r.text.split()[0] for r in variants] == ["a", "b"]
    assert all("[" in r.text for r in variants)  # each with its interval
    assert browser.text("#lift").startswith("Absolute:"), browser.text("#lift")
    assert "no difference yet" in browser.text("#decision")  # 1000 samples needed before any decision
    browser.screenshot("23-ab-test")
    assert_clean(browser)
