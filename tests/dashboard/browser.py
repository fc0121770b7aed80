"""Headless Chromium from Debian's packages (chromium + chromium-driver), driven through Selenium, with
the browser console collected and full-page screenshots saved under ``screenshots/dashboard/``."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots" / "dashboard"


def require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        message = f"no {', '.join(missing)}: scripts/start-services installs chromium and chromium-driver"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


class Browser:
    def __init__(self) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                         "--window-size=1280,900", "--disable-extensions", "--no-first-run"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def open(self, url: str) -> None:
        self.driver.get(url)

    def console_errors(self) -> list[dict[str, Any]]:
        """The console's errors since the last call (JavaScript errors, failed loads)."""
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, selector))

    def text(self, selector: str) -> str:
        found = self.all(selector)
        return str(found[0].text) if found else ""

    def wait(self, condition: Callable[[], Any], timeout_s: float = 30, what: str = "") -> Any:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                value = condition()
            except Exception:  # the page is being refreshed in place; look again
                value = None
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what or condition}")
            time.sleep(0.1)

    def screenshot(self, name: str) -> Path:
        """The whole page, not only the window."""
        height = int(self.driver.execute_script("return document.documentElement.scrollHeight"))
        self.driver.set_window_size(1280, max(900, min(height + 120, 6000)))
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        self.driver.set_window_size(1280, 900)
        return path

    def close(self) -> None:
        self.driver.quit()


def assert_clean(browser: Browser) -> None:
    assert browser.console_errors() == []


def sign_in(browser: Browser, base_url: str, token: str) -> None:
    """Through the sign-in page, as a person does (once per browser)."""
    browser.open(f"{base_url}/ui/login")
    browser.css("#token").send_keys(token + "\n")
    browser.wait(lambda: browser.text("h1") == "Endpoints", what="the overview after sign-in")
