"""greenfleet: real-time model endpoints with SageMaker's deployment guardrails, on your own machines."""

from greenfleet.client import ApiError, Client

__version__ = "0.1.0"
__all__ = ["ApiError", "Client", "__version__"]
