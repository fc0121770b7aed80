"""create_app: the FastAPI application of the native REST API."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI

from greenfleet import __version__
from greenfleet.api import errors
from greenfleet.api.routes import hosting

# Route modules owned by other features; each exposes ``router`` and is included when present.
OPTIONAL_ROUTES = ("metrics", "alarms", "events", "prometheus", "deployments", "monitoring", "aws")


def create_app(services: Any) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await services.router.upstream.close()  # the data plane's pooled connections to instances

    app = FastAPI(title="greenfleet", version=__version__, lifespan=lifespan,
                  description="Real-time model endpoints with SageMaker's deployment guardrails.")
    app.state.services = services
    errors.install(app)
    app.include_router(hosting.router)
    for name in OPTIONAL_ROUTES:
        try:
            module = importlib.import_module(f"greenfleet.api.routes.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"greenfleet.api.routes.{name}":
                raise
            continue
        app.include_router(module.router)

    @app.get("/health", summary="Liveness of the control plane")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__,
                "routing_revision": services.router.table.revision}

    return app
