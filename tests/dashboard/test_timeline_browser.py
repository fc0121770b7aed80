"""The lifecycle timeline in a real headless Chromium against a real server: reached from the navigation, a
group's events in order, and a decision taken meanwhile appearing without a reload (the page refreshes its
events in place); no console errors. Screenshots land in screenshots/dashboard/ (git-ignored)."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from greenfleet.server import Server
from tests.dashboard.browser import Browser, assert_clean, sign_in
from tests.dashboard.conftest import TOKEN
from tests.live.conftest import Api

pytestmark = [pytest.mark.slow, pytest.mark.parallel]  # times nothing


def test_the_timeline_follows_the_group(browser: Browser, server: Server, api: Api, tmp_path: Path) -> None:
    (tmp_path / "model.joblib").write_bytes(b"not really a model")
    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "model.joblib", arcname="model.joblib")
    api.call("POST", "/api/model-package-groups", {"ModelPackageGroupName": "timeline-demo"})
    for status in ("Approved", "PendingManualApproval"):
        api.call("POST", "/api/model-packages", {
            "ModelPackageGroupName": "timeline-demo", "ModelApprovalStatus": status,
            "InferenceSpecification": {"Containers": [{"Image": "greenfleet/sklearn",
                                                       "ModelDataUrl": str(tmp_path / "model.tar.gz")}]}})
    sign_in(browser, server.settings.base_url, TOKEN)
    browser.css("nav a[href='/ui/timeline']").click()
    browser.wait(lambda: browser.text("h1") == "Lifecycle timelines", what="the timelines page")
    browser.css("a[href='/ui/timeline/timeline-demo']").click()
    browser.wait(lambda: browser.text("h1") == "timeline-demo: lifecycle", what="the group's timeline")
    events = [e.text for e in browser.all("#timeline-events li")]
    assert len(events) == 2 and "v1 registered" in events[0] and "v2 registered" in events[1], events
    assert "Approved" in events[0] and "PendingManualApproval" in events[1]
    api.http.post("/api/model-packages/timeline-demo/2", headers={"X-Greenfleet-Caller": "carol"},
                  json={"ModelApprovalStatus": "Rejected", "ApprovalDescription": "failed the shadow test"})
    last = browser.wait(lambda: len(found := browser.all("#timeline-events li")) == 3 and found[-1].text,
                        timeout_s=15, what="the rejection to appear without a reload")
    assert "v2 Rejected" in last and "by carol: failed the shadow test" in last, last
    browser.screenshot("30-timeline")
    assert_clean(browser)
