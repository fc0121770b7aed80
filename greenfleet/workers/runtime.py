"""The plug-in contract of a model runtime."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from greenfleet.workers.rows import RowStream

__all__ = ["RowStreaming", "Runtime"]


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


@runtime_checkable
class RowStreaming(Protocol):
    """A runtime that can answer a large row-oriented body chunk by chunk (``rows.py``)."""

    def stream(self, content_type: str, accept: str) -> RowStream | None:
        """How to predict and write a request of ``content_type`` answered for ``accept`` in chunks of rows;
        None when it must be read whole (not a row type, an answer that cannot be written in pieces).
        Raises the RequestError ``invoke`` would for an unsupported Accept."""
        ...
