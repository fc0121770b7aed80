"""The browser dashboard at ``/ui``: server-rendered pages (Jinja2) with a little JavaScript that refreshes
them in place, charts drawn by the vendored uPlot, all shipped in the package.

    app.include_router(dashboard.router)

Which pages exist and how they appear in the navigation is listed in ``pages.py``; who may see them in
``access.py`` and ``session.py``.
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter

from greenfleet.dashboard import login, static
from greenfleet.dashboard.pages import MODULES

__all__ = ["router"]


def _router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    router.include_router(static.router)
    router.include_router(login.router)
    router.include_router(login.guarded)
    for name in MODULES:
        router.include_router(importlib.import_module(f"greenfleet.dashboard.{name}").router)
    return router


router = _router()
