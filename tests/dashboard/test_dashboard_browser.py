"""The dashboard in a real headless Chromium against a real server with real worker processes: sign in
with the token, every page renders without console errors, a canary deployment started through the API
advances live on its page, and approving a manual gate from the page (by keyboard) moves the rollout on.
Screenshots of each page land in screenshots/dashboard/ (git-ignored)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from greenfleet.server import Server
from tests.dashboard.browser import Browser, assert_clean
from tests.dashboard.conftest import TOKEN
from tests.live.conftest import Api, features, sklearn_model  # noqa: F401 - fixtures
from tests.live.test_deployments_live import new_config, wait_done
from tests.live.test_endpoints_live import csv_row

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop(api: Api, sklearn_model: Path, features: np.ndarray) -> Iterator[str]:  # noqa: F811
    """An endpoint under steady light traffic, with an alarm on its 5XX errors."""
    new_config(api, "shop", "shop-v1", sklearn_model)
    api.call("POST", "/api/endpoints", {"EndpointName": "shop", "EndpointConfigName": "shop-v1"})
    api.wait_status("shop", "InService")
    api.call("PUT", "/api/alarms/shop-5xx", {
        "Namespace": "AWS/SageMaker", "MetricName": "Invocation5XXErrors", "Statistic": "Sum", "Period": 10,
        "EvaluationPeriods": 1, "Threshold": 5, "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
        "Dimensions": [{"Name": "EndpointName", "Value": "shop"}, {"Name": "VariantName", "Value": "main"}]})
    stop = threading.Event()
    body = csv_row(features)

    def load() -> None:
        while not stop.wait(0.05):
            api.invoke("shop", body)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    yield "shop"
    stop.set()
    thread.join()


def test_sign_in_once_then_the_overview(browser: Browser, server: Server, shop: str) -> None:
    base = server.settings.base_url
    browser.open(f"{base}/ui")
    browser.wait(lambda: "/ui/login" in browser.driver.current_url, what="the sign-in page")
    browser.screenshot("01-sign-in")
    browser.css("#token").send_keys(TOKEN + "\n")
    browser.wait(lambda: browser.text("h1") == "Endpoints", what="the overview after sign-in")
    row = browser.wait(lambda: browser.text("table.grid tbody tr"), what="the endpoint's row")
    assert "shop" in row and "InService" in row and "main weight 1 / 1" in row and "1 / 1 instances" in row, row
    browser.wait(lambda: "0 calls" not in browser.text("td.spark"), timeout_s=20, what="traffic in the sparkline")
    browser.screenshot("02-endpoints")
    # a keyboard user's focus survives the table's refresh
    browser.driver.execute_script("window.refreshes = 0; document.addEventListener('live-updated', () => "
                                  "window.refreshes++); document.querySelector('tbody a').focus()")
    browser.wait(lambda: browser.driver.execute_script("return window.refreshes") >= 1, what="a refresh")
    assert browser.driver.switch_to.active_element.get_attribute("href").endswith("/ui/endpoints/shop")
    assert_clean(browser)


def test_endpoint_page_draws_live_charts(browser: Browser, server: Server, shop: str) -> None:
    browser.open(f"{server.settings.base_url}/ui/endpoints/shop")
    browser.wait(lambda: len(browser.all(".charts figure canvas")) == 4, what="four charts")
    first = browser.wait(lambda: browser.text(".chart-status").startswith("Updated") and browser.text(".chart-status"))
    browser.wait(lambda: browser.text(".chart-status") != first, timeout_s=10, what="a refreshed chart")
    captions = [f.text for f in browser.all(".charts figcaption")]
    assert captions[0] == "Invocations per second" and "ModelLatency" in captions[2], captions
    assert "main (shop-v1)" in browser.text(".charts")  # the legend names variant and config
    assert "InService" in browser.text("#variants-heading + div")
    browser.screenshot("03-endpoint")
    assert_clean(browser)


def test_canary_deployment_advances_live_on_its_page(browser: Browser, server: Server, api: Api, shop: str,
                                                     sklearn_model: Path) -> None:  # noqa: F811
    new_config(api, "shop", "shop-v2", sklearn_model)
    api.call("POST", "/api/endpoints/shop/update", {"EndpointConfigName": "shop-v2", "DeploymentConfig": {
        "BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
            "Type": "CANARY", "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 25}, "WaitIntervalInSeconds": 4},
            "TerminationWaitInSeconds": 3, "MaximumExecutionTimeoutInSeconds": 120},
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "shop-5xx"}]}}})
    browser.open(f"{server.settings.base_url}/ui/endpoints/shop/deployments/latest")
    browser.driver.execute_script("window.loadedOnce = true")
    seen: list[str] = []

    def current() -> bool:
        stage = browser.text("tr[aria-current=step]")
        phase = browser.text("#phase")
        now = " ".join(f"{stage} | {phase} | {browser.text('ul.shares')}".split())
        if not seen or seen[-1] != now:
            seen.append(now)
        return "SUCCEEDED" in phase

    browser.wait(lambda: "canary" in browser.text("tr[aria-current=step]"), what="the canary stage")
    browser.wait(lambda: "BAKING" in browser.text("#phase"), what="the canary's bake")
    assert "shop-5xx" in browser.text("#alarms-heading + ul") and "OK" in browser.text("#alarms-heading + ul")
    assert "25 %" in browser.text("ul.shares")
    browser.screenshot("04-deployment-canary")
    browser.wait(current, timeout_s=60, what="the deployment to succeed")
    assert browser.driver.execute_script("return window.loadedOnce") is True  # refreshed in place
    # seen on the one page load, in order: the canary's bake, all traffic on the new fleet, done
    assert "canary" in seen[0] and "BAKING" in seen[0], seen
    assert any("TERMINATION_WAIT" in s and "shop-v1 0 % of traffic shop-v2 100 % of traffic" in s for s in seen), seen
    assert "SUCCEEDED" in seen[-1], seen
    timeline = browser.text("ol.timeline")
    assert "SUCCEEDED" in timeline and "canary" in timeline
    assert all(b.get_attribute("disabled") for b in browser.all("button[data-command]"))  # nothing to command
    browser.screenshot("05-deployment-done")
    assert_clean(browser)


def test_approving_a_manual_gate_in_the_page_moves_the_rollout_on(browser: Browser, server: Server, api: Api,
                                                                  shop: str, sklearn_model: Path) -> None:  # noqa: F811
    from selenium.webdriver.common.keys import Keys

    new_config(api, "shop", "shop-v3", sklearn_model)
    api.call("POST", "/api/endpoints/shop/update", {"EndpointConfigName": "shop-v3", "DeploymentConfig": {
        "GreenfleetRollout": {"Steps": [{"TrafficPercent": 50, "BakeInSeconds": 0, "RequireApproval": True},
                                        {"TrafficPercent": 100, "BakeInSeconds": 0}]}}})
    browser.open(f"{server.settings.base_url}/ui/endpoints/shop/deployments/latest")
    browser.wait(lambda: "AWAITING_APPROVAL" in browser.text("#phase"), what="the manual gate")
    approve = browser.wait(lambda: next(b for b in browser.all("button[data-command=approve]")
                                        if not b.get_attribute("disabled")), what="an enabled Approve button")
    assert "attention" in approve.get_attribute("class")
    browser.screenshot("06-deployment-awaiting-approval")
    approve.send_keys(Keys.ENTER)  # by keyboard: the dialog opens with the reason field focused
    browser.wait(lambda: browser.css("#command-dialog").get_attribute("open") is not None, what="the dialog")
    reason = browser.driver.switch_to.active_element
    assert reason.get_attribute("id") == "command-reason"
    reason.send_keys("canary metrics look fine")
    browser.screenshot("07-approve-dialog")
    reason.send_keys(Keys.TAB)
    browser.driver.switch_to.active_element.send_keys(Keys.ENTER)
    browser.wait(lambda: "APPROVE sent" in browser.text("#command-status"), what="the command's receipt")
    browser.wait(lambda: "SUCCEEDED" in browser.text("#phase"), timeout_s=60, what="the rollout to move on")
    described = wait_done(api, "shop")
    assert described["EndpointStatus"] == "InService" and described["EndpointConfigName"] == "shop-v3", described
    assert "canary metrics look fine" in browser.text("ol.timeline")
    browser.screenshot("08-deployment-approved")
    assert_clean(browser)


def test_alarm_pages_show_states_and_history(browser: Browser, server: Server, shop: str) -> None:
    browser.open(f"{server.settings.base_url}/ui/alarms")
    row = browser.wait(lambda: browser.text("table.grid tbody tr"), what="the alarm's row")
    assert "shop-5xx" in row and ("OK" in row or "INSUFFICIENT_DATA" in row), row
    browser.screenshot("09-alarms")
    browser.css("table.grid tbody a").click()
    browser.wait(lambda: browser.text("h1") == "shop-5xx", what="the alarm's page")
    history = browser.wait(lambda: browser.text("table.grid"), what="the alarm's history")
    assert "ConfigurationUpdate" in history or "StateUpdate" in history, history
    browser.screenshot("10-alarm")
    assert_clean(browser)
