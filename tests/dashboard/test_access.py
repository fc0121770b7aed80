"""Who may see and change what through /ui, over real HTTP against a real server with an API token."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from greenfleet.dashboard.session import COOKIE, SESSION_TTL_S, SessionKeys
from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.conftest import free_port

TOKEN = "s3cret-token"


def start(home: Path, token: str | None) -> Server:
    server = Server(Settings(home=home, port=free_port(), api_token=token, reconcile_interval_s=0.2))
    server.start_in_thread()
    return server


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = start(tmp_path_factory.mktemp("dash-access"), TOKEN)
    yield server.settings.base_url
    server.stop_thread()


@contextlib.contextmanager
def signed_in(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url) as client:
        response = client.post("/ui/login", data={"token": TOKEN, "next": "/ui"})
        assert response.status_code == 303 and COOKIE in client.cookies
        yield client


def csrf(client: httpx.Client, path: str = "/ui") -> str:
    found = re.search(r'name="csrf-token" content="([0-9a-f]+)"', client.get(path).text)
    assert found
    return found.group(1)


def test_nothing_is_shown_without_a_session(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        page = client.get("/ui/alarms", headers={"Accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"] == "/ui/login?next=%2Fui%2Falarms"
        for path in ("/ui/fragments/overview", "/ui/fragments/alarms", "/ui/endpoints/any/chart-data",
                     "/ui/fragments/registry", "/ui/registry/any/fragments/live", "/ui/registry/any/1/fragments/live",
                     "/ui/fragments/monitoring", "/ui/monitoring/any/fragments/live"):
            refused = client.get(path)
            assert refused.status_code == 401 and "/ui/login" in refused.json()["message"], path
        assert client.get("/ui/login").status_code == 200
        assert client.get("/ui/static/dashboard.js").status_code == 200  # no data in it
        escaped = client.get("/ui/static/../../settings.py")  # the client folds it to /settings.py: not the UI's
        assert escaped.status_code in (401, 404) and "Settings" not in escaped.text
        assert client.get("/api/endpoints").status_code == 401  # the REST API's own check is unchanged


def test_sign_in_once_gives_a_strict_http_only_expiring_cookie(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as client:
        wrong = client.post("/ui/login", data={"token": "guess", "next": "/ui"})
        assert wrong.status_code == 401 and "set-cookie" not in wrong.headers
        right = client.post("/ui/login", data={"token": TOKEN, "next": "/ui/alarms"})
        assert right.status_code == 303 and right.headers["location"] == "/ui/alarms"
        cookie = right.headers["set-cookie"]
        for attribute in ("HttpOnly", "SameSite=strict", "Path=/ui", f"Max-Age={SESSION_TTL_S}"):
            assert attribute in cookie, cookie
        assert client.get("/ui/alarms").status_code == 200
        assert client.get("/ui/fragments/overview").status_code == 200
        elsewhere = client.post("/ui/login", data={"token": TOKEN, "next": "https://evil.example/ui"})
        assert elsewhere.headers["location"] == "/ui"  # no open redirect


def test_a_forged_or_foreign_cookie_is_refused(base_url: str) -> None:
    with signed_in(base_url) as client:
        value = client.cookies[COOKIE]
        forged = value[:-4] + ("0000" if not value.endswith("0000") else "1111")
        longer = value.replace(value.split(".")[1], str(int(value.split(".")[1]) + 10 ** 6))
        for bad in (forged, longer, SessionKeys("another-token", b"").issue(0 + 1e9)[1]):
            with httpx.Client(base_url=base_url, cookies={COOKIE: bad}) as other:
                assert other.get("/ui/fragments/overview").status_code == 401


def test_sessions_expire_and_csrf_tokens_are_per_session() -> None:
    keys = SessionKeys(TOKEN, b"")
    session, cookie = keys.issue(1000.0)
    assert keys.read(cookie, 1000.0 + SESSION_TTL_S - 1) == session
    assert keys.read(cookie, 1000.0 + SESSION_TTL_S) is None
    other, _ = keys.issue(1000.0)
    assert keys.csrf_matches(session, keys.csrf_token(session))
    assert not keys.csrf_matches(other, keys.csrf_token(session))
    assert not keys.csrf_matches(session, None)


def test_state_changes_need_the_csrf_token_and_this_origin(base_url: str) -> None:
    with signed_in(base_url) as client:
        token = csrf(client)
        url = "/ui/endpoints/shop/deployment/approve"
        body = {"Reason": "looks fine"}
        assert client.post(url, json=body).status_code == 403
        assert client.post(url, json=body, headers={"X-CSRF-Token": "0" * 64}).status_code == 403
        cross = client.post(url, json=body, headers={"X-CSRF-Token": token, "Origin": "http://evil.example"})
        assert cross.status_code == 403
        site = client.post(url, json=body, headers={"X-CSRF-Token": token, "Sec-Fetch-Site": "cross-site"})
        assert site.status_code == 403
        # past the guard, the service answers: no such endpoint, and a reason is required
        passed = client.post(url, json=body, headers={"X-CSRF-Token": token, "Origin": base_url})
        assert passed.status_code == 400 and "shop" in passed.json()["message"]
        silent = client.post(url, json={}, headers={"X-CSRF-Token": token})
        assert silent.status_code == 400 and "reason" in silent.json()["message"]
        cross_login = client.post("/ui/login", data={"token": TOKEN}, headers={"Origin": "http://evil.example"})
        assert cross_login.status_code == 403


def test_sign_out_needs_the_csrf_token_and_clears_the_cookie(base_url: str) -> None:
    with signed_in(base_url) as client:
        assert client.post("/ui/logout").status_code == 403
        out = client.post("/ui/logout", data={"csrf_token": csrf(client)})
        assert out.status_code == 303 and out.headers["location"] == "/ui/login"
        assert COOKIE not in client.cookies
        assert client.get("/ui/fragments/overview").status_code == 401


def test_without_an_api_token_pages_are_open_but_changes_still_need_csrf(tmp_path: Path) -> None:
    server = start(tmp_path / "home", None)
    try:
        with httpx.Client(base_url=server.settings.base_url) as client:
            assert client.get("/ui").status_code == 200
            assert client.get("/ui/login").status_code == 303
            url = "/ui/endpoints/shop/deployment/pause"
            assert client.post(url, json={"Reason": "x"}).status_code == 403
            answer = client.post(url, json={"Reason": "x"}, headers={"X-CSRF-Token": csrf(client)})
            assert answer.status_code == 400  # reached the service: no such endpoint
    finally:
        server.stop_thread()


def test_registry_decisions_need_the_csrf_token_a_status_and_a_reason(base_url: str) -> None:
    with signed_in(base_url) as client:
        page = client.get("/ui/registry")
        assert page.status_code == 200 and 'href="/ui/registry" aria-current="page"' in page.text
        missing = client.get("/ui/registry/nothing-here")
        assert missing.status_code == 404 and "ModelPackageGroup nothing-here does not exist." in missing.text
        url = "/ui/registry/nothing-here/1/decision"
        body = {"Status": "Approved", "Reason": "looks fine"}
        assert client.post(url, json=body).status_code == 403
        cross = client.post(url, json=body, headers={"X-CSRF-Token": csrf(client), "Origin": "http://evil.example"})
        assert cross.status_code == 403
        headers = {"X-CSRF-Token": csrf(client)}
        unknown = client.post(url, json=body, headers=headers)  # past the guard: the registry answers
        assert unknown.status_code == 400 and "does not exist" in unknown.json()["message"]
        silent = client.post(url, json={"Status": "Approved", "Reason": "  "}, headers=headers)
        assert silent.status_code == 400 and "reason" in silent.json()["message"]
        other = client.post(url, json={"Status": "PendingManualApproval", "Reason": "x"}, headers=headers)
        assert other.status_code == 400 and "Approved, Rejected" in other.json()["message"]


def test_the_monitoring_pages_before_any_schedule(base_url: str) -> None:
    with signed_in(base_url) as client:
        page = client.get("/ui/monitoring")
        assert page.status_code == 200 and 'href="/ui/monitoring" aria-current="page"' in page.text
        assert "No monitoring schedules." in page.text and "No execution yet." in page.text
        missing = client.get("/ui/monitoring/nothing-here")
        assert missing.status_code == 404 and "nothing-here does not exist" in missing.text
