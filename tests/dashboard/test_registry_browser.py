"""The model registry's pages in a real headless Chromium against a real server with real worker processes:
the groups, a group's versions with their key metrics, one version's lineage and metrics against the
champion's, all without console errors; approving a version from its page (by keyboard, with a reason)
changes its status and starts the binding's guarded deployment, which the page follows until the version
is the champion; rejecting from the group's page asks for a reason too and deploys nothing.
Screenshots land in screenshots/dashboard/ (git-ignored)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from greenfleet.server import Server
from tests.dashboard.browser import Browser, assert_clean, sign_in
from tests.dashboard.conftest import TOKEN
from tests.live.conftest import Api, sklearn_model  # noqa: F401 - fixtures

pytestmark = pytest.mark.slow
CANARY = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
    "Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 50}, "WaitIntervalInSeconds": 4},
    "TerminationWaitInSeconds": 2, "MaximumExecutionTimeoutInSeconds": 120}}


def register(api: Api, model: Path, reports: Path, version: int, metrics: dict[str, float] | None,
             **extra: Any) -> None:
    body: dict[str, Any] = {"ModelPackageGroupName": "churn", "InferenceSpecification": {"Containers": [
        {"Image": "greenfleet/sklearn", "ModelDataUrl": str(model)}]}, **extra}
    if metrics is not None:
        report = reports / f"v{version}.json"
        report.write_text(json.dumps({"binary_classification_metrics": {
            name: {"value": value} for name, value in metrics.items()}}))
        body["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": "application/json",
                                                                "S3Uri": str(report)}}}
    answer = api.call("POST", "/api/model-packages", body)
    assert answer["ModelPackageArn"].endswith(f"/churn/{version}")


@pytest.fixture(scope="module")
def churn(api: Api, server: Server, sklearn_model: Path, tmp_path_factory: pytest.TempPathFactory) -> str:  # noqa: F811
    """Group churn: version 1 Approved and serving on endpoint reg (bound with a canary), version 2 pending
    with better metrics, version 3 pending without metrics."""
    reports = tmp_path_factory.mktemp("reports")
    api.call("POST", "/api/model-package-groups", {"ModelPackageGroupName": "churn",
                                                   "ModelPackageGroupDescription": "Churn classifier"})
    register(api, sklearn_model, reports, 1, {"accuracy": 0.88, "auc": 0.9}, ModelApprovalStatus="Approved",
             MetadataProperties={"CommitId": "1111aaaa2222bbbb", "Repository": "git@example.com:ml/churn.git"})
    register(api, sklearn_model, reports, 2, {"accuracy": 0.91, "auc": 0.93}, ModelPackageDescription="more features",
             MetadataProperties={"CommitId": "3333cccc4444dddd", "Repository": "git@example.com:ml/churn.git"},
             CustomerMetadataProperties={"dataset": "2026-11"})
    register(api, sklearn_model, reports, 3, None)
    api.call("POST", "/api/models", {"ModelName": "reg-first", "Containers": [{"ModelPackageName": "churn/1"}]})
    api.call("POST", "/api/endpoint-configs", {"EndpointConfigName": "reg-c1", "ProductionVariants": [
        {"VariantName": "main", "ModelName": "reg-first", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]})
    api.call("POST", "/api/endpoints", {"EndpointName": "reg", "EndpointConfigName": "reg-c1"})
    api.wait_status("reg", "InService")
    binding = api.call("POST", "/api/registry-bindings", {"EndpointName": "reg", "ModelPackageGroupName": "churn",
                                                          "DeploymentConfig": CANARY})
    assert binding["Champion"] == 1
    return "churn"


def open_by_keyboard(browser: Browser, url: str, button: str) -> None:
    """Open the page and press Enter on a decision button: its dialog opens."""
    from selenium.webdriver.common.keys import Keys

    browser.open(url)
    browser.wait(lambda: browser.css(f"#{button}"), what=f"the button {button}").send_keys(Keys.ENTER)
    browser.wait(lambda: browser.css("#decision-dialog").get_attribute("open") is not None, what="the dialog")


@pytest.fixture(scope="module")
def signed_in(browser: Browser, server: Server) -> Browser:
    sign_in(browser, server.settings.base_url, TOKEN)
    return browser


def test_groups_versions_lineage_and_metrics(signed_in: Browser, churn: str) -> None:
    browser = signed_in
    browser.css("nav a[href='/ui/registry']").click()  # linked from the navigation
    browser.wait(lambda: browser.text("h1") == "Model registry", what="the registry page")
    assert browser.css("nav a[aria-current=page]").text == "Model registry"
    row = browser.text("table.grid tbody tr")
    assert "churn" in row and "Churn classifier" in row, row
    assert "3 · 1 Approved · 2 pending · 0 Rejected" in row and "reg (main): version 1" in row, row
    browser.screenshot("11-registry")
    assert_clean(browser)

    browser.css("table.grid tbody a[href='/ui/registry/churn']").click()
    browser.wait(lambda: browser.text("h1") == "churn", what="the group's page")
    versions = [r.text for r in browser.all("#versions-heading + table tbody tr")]
    assert [v.split("\n")[0].split()[:2] for v in versions] == [["version", "3"], ["version", "2"], ["version", "1"]]
    assert "PendingManualApproval" in versions[1] and "accuracy 0.91" in versions[1] and "3333cccc4444" in versions[1]
    assert "Approved" in versions[2] and "auc 0.9" in versions[2]
    assert "version 1" in browser.text("#bindings-heading + table tbody")
    assert browser.css("#approve-1").get_attribute("disabled") and not browser.css("#approve-2").get_attribute(
        "disabled")  # a version's own status is not offered again
    assert browser.css("#approve-2").get_attribute("aria-label") == "Approve version 2"
    history = browser.text("#history-heading + table")
    assert "created" in history and "PendingManualApproval" in history
    browser.screenshot("12-registry-group")
    assert_clean(browser)

    browser.css("#versions-heading + table a[href='/ui/registry/churn/2']").click()
    browser.wait(lambda: browser.text("h1") == "churn, version 2", what="the version's page")
    assert "PendingManualApproval" in browser.text("#approval-status")
    lineage = browser.text("#lineage-heading + table")
    for expected in ("CommitId 3333cccc4444dddd", "Repository git@example.com:ml/churn.git", "dataset 2026-11",
                     "Model data digest sha256:", "Image greenfleet/sklearn", "Report ModelQuality.Statistics sha256:"):
        assert expected in lineage, (expected, lineage)
    metrics = browser.text("#metrics-heading + table")
    assert "Version 1 (champion)" in metrics, metrics
    assert "accuracy 0.91 0.88 ▲ +0.03" in metrics and "auc 0.93 0.9 ▲ +0.03" in metrics, metrics
    browser.screenshot("13-registry-version")
    assert_clean(browser)


def test_approving_a_version_in_the_page_starts_the_bindings_guarded_deployment(
        signed_in: Browser, server: Server, api: Api, churn: str) -> None:
    from selenium.webdriver.common.keys import Keys

    browser = signed_in
    open_by_keyboard(browser, f"{server.settings.base_url}/ui/registry/churn/2", "approve-2")
    assert browser.text("#decision-title") == "Approve churn version 2"
    reason = browser.driver.switch_to.active_element
    assert reason.get_attribute("id") == "decision-reason"
    assert browser.css("label[for=decision-reason]").text.startswith("Reason")
    reason.send_keys("beats version 1 on the holdout set")
    browser.screenshot("14-registry-approve-dialog")
    reason.send_keys(Keys.TAB)
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    browser.wait(lambda: "churn version 2 is now Approved" in browser.text("#decision-status"),
                 what="the decision's receipt")
    assert "Bound endpoint(s) reg follow it" in browser.text("#decision-status")
    browser.wait(lambda: "Approved" in browser.text("#approval-status"), what="the new status, refreshed in place")
    assert "beats version 1 on the holdout set" in browser.text("#decision-heading + dl")

    # the binding's controller starts the guarded deployment: the page shows it and links to it
    follow = browser.wait(lambda: browser.css("#bindings-heading + table a[href*='/deployments/']"), timeout_s=30,
                          what="the deployment in progress")
    assert "version 2" in browser.text("#bindings-heading + table tbody")
    deployments = api.call("GET", "/api/endpoints/reg/deployments")["Deployments"]
    assert [d["ToConfig"] for d in deployments] == ["reg-churn-v2"], deployments
    assert deployments[0]["Strategy"] == "CANARY"
    browser.screenshot("15-registry-deploying")
    follow.click()
    browser.wait(lambda: browser.text("h1").startswith("Deployment"), what="the deployment's page")
    browser.wait(lambda: "SUCCEEDED" in browser.text("#phase"), timeout_s=90, what="the deployment to succeed")
    assert_clean(browser)

    browser.open(f"{server.settings.base_url}/ui/registry/churn/2")
    browser.wait(lambda: browser.text("#bindings-heading + table tbody td:nth-child(3)") == "version 2"
                 and browser.text("#bindings-heading + table tbody td:nth-child(4)") == "—",
                 timeout_s=30, what="version 2 as the champion, nothing being deployed")
    trail = browser.text("#history-heading + table")
    assert "dashboard" in trail and "beats version 1 on the holdout set" in trail, trail
    assert "deployment on reg" in trail and "SUCCEEDED" in trail, trail
    described = api.call("GET", "/api/model-packages/churn/2")
    assert described["ModelApprovalStatus"] == "Approved"
    assert described["ApprovalDescription"] == "beats version 1 on the holdout set"
    approvals = [h for h in api.call("GET", "/api/model-package-groups/churn/history")["History"]
                 if h["Kind"] == "approval"]
    assert [(h["ModelPackageVersion"], h["ToStatus"], h["By"]) for h in approvals] == [(2, "Approved", "dashboard")]
    browser.screenshot("16-registry-approved")
    assert_clean(browser)


def test_rejecting_from_the_group_page_asks_for_a_reason_and_deploys_nothing(
        signed_in: Browser, server: Server, api: Api, churn: str) -> None:
    from selenium.webdriver.common.keys import Keys

    browser = signed_in
    open_by_keyboard(browser, f"{server.settings.base_url}/ui/registry/churn", "reject-3")
    browser.driver.switch_to.active_element.send_keys(Keys.ESCAPE)  # Escape closes it; focus goes back
    browser.wait(lambda: browser.css("#decision-dialog").get_attribute("open") is None, what="the dialog to close")
    browser.wait(lambda: browser.driver.switch_to.active_element.get_attribute("id") == "reject-3",
                 what="the focus back on the button")
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    browser.wait(lambda: browser.css("#decision-dialog").get_attribute("open") is not None, what="the dialog again")
    browser.css("#decision-submit").click()  # without a reason: the field is required, nothing is sent
    assert browser.css("#decision-dialog").get_attribute("open") is not None
    browser.css("#decision-reason").send_keys("   ")
    browser.css("#decision-submit").click()  # blanks are no reason either
    browser.wait(lambda: browser.text("#decision-error") == "A reason is required.", what="the refusal")
    assert api.call("GET", "/api/model-packages/churn/3")["ModelApprovalStatus"] == "PendingManualApproval"
    browser.css("#decision-reason").send_keys("no metrics were registered")
    browser.css("#decision-submit").click()
    browser.wait(lambda: "churn version 3 is now Rejected" in browser.text("#decision-status"), what="the receipt")
    browser.wait(lambda: "Rejected" in browser.text("#versions-heading + table tbody tr:first-child"),
                 what="version 3's new status in the table")
    assert "no metrics were registered" in browser.text("#versions-heading + table tbody tr:first-child")
    assert browser.css("#reject-3").get_attribute("disabled")
    browser.screenshot("17-registry-rejected")
    assert api.call("GET", "/api/model-packages/churn/3")["ModelApprovalStatus"] == "Rejected"
    assert len(api.call("GET", "/api/endpoints/reg/deployments")["Deployments"]) == 1  # nothing new deployed
    browser.css("nav a[href='/ui/registry']").click()
    browser.wait(lambda: "2 Approved · 0 pending · 1 Rejected" in browser.text("table.grid tbody tr"),
                 what="the counts on the registry page")
    assert "reg (main): version 2" in browser.text("table.grid tbody tr")
    assert_clean(browser)
