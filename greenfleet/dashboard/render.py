"""Server-side rendering: one Jinja2 environment over the package's templates, and the filters the
templates share (times, durations, percentages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from greenfleet.dashboard.access import current_session, session_keys
from greenfleet.dashboard.pages import NAV
from greenfleet.dashboard.static import url as static_url

__all__ = ["environment", "fragment", "page"]

environment = jinja2.Environment(
    loader=jinja2.PackageLoader("greenfleet.dashboard", "templates"),
    autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
    undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
)


def _epoch(value: Any) -> float | None:
    if value is None or value == "":
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def when(value: Any) -> str:
    """An instant as ``2026-12-03 20:41:07 UTC`` (epoch seconds or ISO 8601 in)."""
    epoch = _epoch(value)
    if epoch is None:
        return "—"
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def clock_time(value: Any) -> str:
    epoch = _epoch(value)
    return "—" if epoch is None else dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%H:%M:%S")


def seconds(value: Any) -> str:
    if value is None:
        return "—"
    total = float(value)
    if total < 120:
        return f"{total:g} s"
    minutes, rest = divmod(int(total), 60)
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def percent(value: Any) -> str:
    return "—" if value is None else f"{float(value) * 100:.4g} %"


environment.filters.update(when=when, clock_time=clock_time, seconds=seconds, percent=percent)
environment.globals.update(static_url=static_url)


def _context(request: Request, section: str) -> dict[str, Any]:
    keys = session_keys(request)
    session = current_session(request)
    return {"nav": NAV, "section": section, "csrf_token": keys.csrf_token(session),
            "signed_in": keys.required and session is not None}


def page(request: Request, template: str, title: str, section: str, status_code: int = 200,
         **context: Any) -> HTMLResponse:
    html = environment.get_template(template).render(title=title, **_context(request, section), **context)
    return HTMLResponse(html, status_code=status_code)


def fragment(template: str, **context: Any) -> HTMLResponse:
    """A part of a page, fetched again by the page's script to refresh it in place."""
    return HTMLResponse(environment.get_template(template).render(**context))
