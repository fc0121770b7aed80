"""Auto scaling on the endpoint page in a real headless Chromium against a real server with a real worker: a
variant registered as a scalable target with a minimum above its count (an activity raising it) and a
target-tracking policy; the page shows the target, the policy with its alarms and the activity, without
console errors. Screenshots land in screenshots/dashboard/ (git-ignored)."""

from __future__ import annotations

from pathlib import Path

import pytest

from greenfleet.server import Server
from tests.dashboard.browser import Browser, assert_clean, sign_in
from tests.dashboard.conftest import TOKEN
from tests.live.conftest import Api, sklearn_model  # noqa: F401 - fixtures

pytestmark = [pytest.mark.slow, pytest.mark.parallel]  # times nothing
KEY = {"ServiceNamespace": "sagemaker", "ResourceId": "endpoint/elastic/variant/AllTraffic",
       "ScalableDimension": "sagemaker:variant:DesiredInstanceCount"}


def test_targets_policies_and_activities_on_the_endpoint_page(browser: Browser, server: Server, api: Api,
                                                               sklearn_model: Path) -> None:  # noqa: F811
    api.deploy("elastic", sklearn_model, {"AllTraffic": (1.0, 1)})
    api.call("POST", "/api/scalable-targets", {**KEY, "MinCapacity": 2, "MaxCapacity": 3})
    api.call("POST", "/api/scaling-policies", {
        **KEY, "PolicyName": "per-instance", "PolicyType": "TargetTrackingScaling",
        "TargetTrackingScalingPolicyConfiguration": {"TargetValue": 1500.0, "PredefinedMetricSpecification": {
            "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"}}})
    sign_in(browser, server.settings.base_url, TOKEN)
    browser.css("a[href='/ui/endpoints/elastic']").click()
    browser.wait(lambda: browser.text("h1") == "elastic", what="the endpoint's page")
    target = browser.text("#scalable-targets tbody tr")
    assert target.split()[:3] == ["AllTraffic", "2", "3"] and "no" in target, target
    policy = browser.text("#scaling-policies tbody tr")
    assert "per-instance" in policy and "TargetTrackingScaling" in policy and "1500" in policy, policy
    assert "AlarmHigh" in policy and "AlarmLow" in policy, policy
    rows = "#activities-heading + table tbody tr"
    activity = browser.wait(lambda: next((row.text for row in browser.all(rows) if "count to 2." in row.text
                                          and "Successful" in row.text), None), timeout_s=60,
                            what="the activity raising the variant to its minimum")
    assert "minimum capacity was set to 2" in activity and "Successful" in activity, activity
    browser.screenshot("22-endpoint-scaling")
    assert_clean(browser)
