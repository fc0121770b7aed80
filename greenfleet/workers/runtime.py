"""The plug-in contract of a model runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

__all__ = ["Runtime"]


class Runtime(Protocol):
    """Loads one model and answers invocations with it.

    ``invoke`` raises a :class:`~greenfleet.workers.errors.RequestError` for a request it cannot
    answer (400/406/415); any other exception is the model's own failure (500).
    """

    def load(self, model_dir: Path) -> None:
        """Load the model from ``model_dir``; raise ``StartupError`` with a precise reason if it can't."""
        ...

    def invoke(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        """Answer one request: the response body and its content type."""
        ...
