"""The dashboard's pages, in one place.

``MODULES`` are the route modules (each exposes ``router``, built with ``GuardedRoute``); ``NAV`` is the
navigation bar. A new panel is one
new module in this package, its template(s) under ``templates/``, and a line in each tuple below.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["MODULES", "NAV", "NavItem"]


class NavItem(NamedTuple):
    label: str
    href: str
    section: str
    """Pages set ``section`` to mark their entry as the current one."""


MODULES = ("endpoints", "deployments", "alarms", "registry", "monitoring", "experiments", "scaling", "timeline")

NAV = (
    NavItem("Endpoints", "/ui", "endpoints"),
    NavItem("Alarms", "/ui/alarms", "alarms"),
    NavItem("Model registry", "/ui/registry", "registry"),
    NavItem("Monitoring", "/ui/monitoring", "monitoring"),
    NavItem("Experiments", "/ui/experiments", "experiments"),
    NavItem("Timeline", "/ui/timeline", "timeline"),
)
