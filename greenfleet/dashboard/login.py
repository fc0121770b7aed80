"""Signing in with the API token (once), and signing out. The cookie is described in ``session``."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from greenfleet.dashboard.access import GuardedRoute, now, same_origin, session_keys
from greenfleet.dashboard.render import environment
from greenfleet.dashboard.session import COOKIE, SESSION_TTL_S

__all__ = ["guarded", "router"]

router = APIRouter()
guarded = APIRouter(route_class=GuardedRoute)


def _next(value: str | None) -> str:
    """Only a dashboard path may follow a sign-in (no open redirect)."""
    if value and value.startswith("/ui") and not value.startswith("//") and "\\" not in value:
        return value
    return "/ui"


def _form(error: str | None, next_path: str, status_code: int) -> HTMLResponse:
    html = environment.get_template("login.html").render(title="Sign in", error=error, next_path=next_path)
    return HTMLResponse(html, status_code=status_code, headers={"cache-control": "no-store"})


@router.get("/ui/login", include_in_schema=False)
def login_form(request: Request, next: str | None = None) -> Response:
    if not session_keys(request).required:
        return RedirectResponse(_next(next), status_code=303)
    return _form(None, _next(next), 200)


@router.post("/ui/login", include_in_schema=False)
async def login(request: Request) -> Response:
    keys = session_keys(request)
    fields = parse_qs((await request.body()).decode("utf-8", "replace"))
    next_path = _next((fields.get("next") or [""])[0])
    if not keys.required:
        return RedirectResponse(next_path, status_code=303)
    if not same_origin(request):
        return _form("Sign-in from another site is refused.", next_path, 403)
    if not keys.token_matches((fields.get("token") or [""])[0]):
        return _form("That is not this server's API token.", next_path, 401)
    _session, cookie = keys.issue(now(request))
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(COOKIE, cookie, max_age=SESSION_TTL_S, path="/ui", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


@guarded.post("/ui/logout", include_in_schema=False)
def logout() -> Response:
    response = RedirectResponse("/ui/login", status_code=303)
    response.delete_cookie(COOKIE, path="/ui", httponly=True, samesite="strict")
    return response
