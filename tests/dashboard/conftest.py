"""The dashboard's fixtures: for the browser tests, a real server with an API token (one per test module) and
a real headless Chromium; for the others, the observability services on a fake clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port
from tests.dashboard.browser import Browser, require_browser
from tests.live.conftest import FAST, Api
from tests.observability_support import clock, make_services, sqlite_engine, sqlite_session_engine  # noqa: F401

TOKEN = "browser-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_browser()
    settings = Settings(home=tmp_path_factory.mktemp("dash-browser") / "home", port=free_port(), api_token=TOKEN,
                        **FAST)
    instance = Server(settings)
    instance.start_in_thread()
    yield instance
    instance.stop_thread()


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[Api]:
    client = Api(server.settings.base_url)
    client.http.headers["Authorization"] = f"Bearer {TOKEN}"
    yield client
    client.http.close()


@pytest.fixture(scope="module")
def browser(server: Server) -> Iterator[Browser]:
    instance = Browser()
    yield instance
    instance.close()
