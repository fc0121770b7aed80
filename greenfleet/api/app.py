"""create_app: the FastAPI application of the native REST API, SageMaker's and CloudWatch's protocols
on ``POST /``, and Prometheus's ``GET /metrics``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from pydantic import BaseModel

from greenfleet import __version__, dashboard
from greenfleet.api import errors, openapi
from greenfleet.api.routes import (
    alarms,
    aws,
    deployments,
    events,
    experiments,
    feedback,
    hosting,
    metrics,
    monitoring,
    prometheus,
    registry,
    scaling,
)
from greenfleet.services import Services


class Health(BaseModel):
    status: str
    version: str
    routing_revision: int


def create_app(services: Services) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await services.router.mirror.close()
        await services.router.upstream.close()  # the data plane's pooled connections to instances

    app = FastAPI(title="greenfleet", version=__version__, lifespan=lifespan,
                  description="Real-time model endpoints with SageMaker's deployment guardrails.")
    app.state.services = services
    errors.install(app)
    for module in (hosting, deployments, metrics, alarms, events, prometheus, registry, monitoring, experiments,
                   feedback, scaling, aws):
        app.include_router(module.router)
    app.include_router(dashboard.router)  # the browser dashboard at /ui (greenfleet/dashboard/)

    @app.get("/health", summary="Liveness of the control plane")
    def health() -> Health:
        return Health(status="ok", version=__version__, routing_revision=services.router.table.revision)

    openapi.install(app)
    return app
