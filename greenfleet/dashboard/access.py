"""Who may see and change what through the dashboard.

Every dashboard route but the sign-in page and the static files is a ``GuardedRoute``: with an API
token set, a request without a valid session cookie is sent to ``/ui/login`` (pages) or refused with
401 (data the pages fetch); a state-changing request must also come from this server's own pages
(Origin, when the browser sends one, and the session's CSRF token in ``X-CSRF-Token`` or a form field).
The services are reached through the typed accessors at the bottom, so handlers stay thin.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, NamedTuple, cast
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.routing import APIRoute

from greenfleet.dashboard.session import COOKIE, Session, SessionKeys
from greenfleet.errors import ConflictError

if TYPE_CHECKING:
    from greenfleet.alarms import AlarmService
    from greenfleet.experiments.service import ExperimentService
    from greenfleet.feedback.service import FeedbackService
    from greenfleet.metrics import MetricService
    from greenfleet.monitoring.service import MonitoringService
    from greenfleet.registry.audit import AuditService
    from greenfleet.registry.bindings import BindingService
    from greenfleet.registry.packages import RegistryService
    from greenfleet.scaling.service import ScalingService
    from greenfleet.services import Services
    from greenfleet.services.deployments import DeploymentService
    from greenfleet.services.endpoints import EndpointService

__all__ = ["SAFE_METHODS", "GuardedRoute", "current_session", "same_origin", "session_keys"]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
_keys_lock = threading.Lock()


def services(request: Request) -> Services:
    return cast("Services", request.app.state.services)


def endpoint_service(request: Request) -> EndpointService:
    return services(request).endpoints


def metric_service(request: Request) -> MetricService:
    return services(request).metrics


def alarm_service(request: Request) -> AlarmService:
    return services(request).alarms


def deployment_service(request: Request) -> DeploymentService:
    return services(request).deployments


class RegistryFaces(NamedTuple):
    packages: RegistryService
    bindings: BindingService
    audit: AuditService


def registry_faces(request: Request) -> RegistryFaces:
    found = services(request)
    if found.registry is None or found.bindings is None or found.registry_audit is None:
        raise ConflictError("This server runs without the model registry")
    return RegistryFaces(found.registry, found.bindings, found.registry_audit)


def monitoring_service(request: Request) -> MonitoringService:
    found = services(request).monitoring
    if found is None:
        raise ConflictError("This server runs without Model Monitor")
    return found


def experiment_service(request: Request) -> ExperimentService:
    found = services(request).experiments
    if found is None:
        raise ConflictError("This server runs no inference experiments")
    return found


def feedback_service(request: Request) -> FeedbackService:
    found = services(request).feedback
    if found is None:
        raise ConflictError("This server runs no A/B tests")
    return found


def scaling_service(request: Request) -> ScalingService | None:
    """Application Auto Scaling's service, or None on a server without it (the endpoint page then omits it)."""
    return services(request).scaling


def now(request: Request) -> float:
    return endpoint_service(request).clock.now()


def session_keys(request: Request) -> SessionKeys:
    """The app's keys, made on first use (the anonymous key lives as long as the server process)."""
    state = request.app.state
    with _keys_lock:
        keys = getattr(state, "dashboard_keys", None)
        if keys is None:
            keys = SessionKeys(services(request).settings.api_token, secrets.token_bytes(32))
            state.dashboard_keys = keys
    return cast(SessionKeys, keys)


def current_session(request: Request) -> Session | None:
    return cast("Session | None", getattr(request.state, "dashboard_session", None))


def same_origin(request: Request) -> bool:
    """False when the browser says the request comes from another site (Origin or Sec-Fetch-Site)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser (or an old one): the CSRF token still has to match
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _wants_page(request: Request) -> bool:
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")


async def _csrf_given(request: Request) -> str | None:
    header = request.headers.get(CSRF_HEADER)
    if header is not None:
        return header
    if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        values = parse_qs((await request.body()).decode("utf-8", "replace")).get(CSRF_FIELD)
        return values[0] if values else None
    return None


def _refuse(status: int, message: str) -> JSONResponse:
    code = "UnauthorizedException" if status == 401 else "AccessDeniedException"
    return JSONResponse({"__type": code, "code": code, "message": message}, status_code=status,
                        headers={"x-amzn-ErrorType": code, "cache-control": "no-store"})


class GuardedRoute(APIRoute):
    """An APIRoute that checks the session (and, for changes, CSRF) before its handler runs."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            keys = session_keys(request)
            session = keys.read(request.cookies.get(COOKIE), now(request))
            if keys.required and session is None:
                if _wants_page(request):
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", status_code=303)
                return _refuse(401, "Sign in to the dashboard first (/ui/login).")
            request.state.dashboard_session = session
            if request.method not in SAFE_METHODS:
                if not same_origin(request):
                    return _refuse(403, "Cross-site requests to the dashboard are refused.")
                if not keys.csrf_matches(session, await _csrf_given(request)):
                    return _refuse(403, "Missing or wrong CSRF token; reload the page.")
            response = await handler(request)
            response.headers.setdefault("cache-control", "no-store")
            return response

        return guarded
