"""greenfleet: real-time model endpoints with SageMaker's deployment guardrails, on your own machines."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from greenfleet.client import ApiError, Client

__version__ = "0.1.0"
__all__ = ["ApiError", "Client", "__version__"]


def __getattr__(name: str) -> Any:
    # Lazy, so worker processes (which import greenfleet.workers) do not pay for the HTTP client.
    if name in ("ApiError", "Client"):
        from greenfleet import client

        return getattr(client, name)
    raise AttributeError(name)
