"""greenfleet: real-time model endpoints with SageMaker's deployment guardrails, on your own machines."""

__version__ = "0.1.0"
