"""The experiments pages in a real headless Chromium against a real server with real workers: a shadow test
of a different classifier, run on real traffic; the list shows it Running, its page the paired report
(latency percentiles and shift, errors, agreement with its confusion matrix, divergent inputs), all without
console errors. Screenshots land in screenshots/dashboard/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from greenfleet.server import Server
from tests.dashboard.browser import Browser, assert_clean, sign_in
from tests.dashboard.conftest import TOKEN
from tests.live.conftest import Api, features, sklearn_model  # noqa: F401 - fixtures
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
