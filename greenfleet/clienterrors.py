"""The errors ``greenfleet.Client`` raises::

    ClientError
     ├── ApiError            the server answered with an error: status, code, message (e.g. ValidationException)
     ├── ServerUnreachable   no answer from the base URL (connection refused, timeout)
     └── WaiterError         wait_for_*: the endpoint Failed, or the wait timed out
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "ClientError", "ServerUnreachable", "WaiterError"]

Doc = dict[str, Any]
NOT_FOUND_CODES = {"ValidationException", "ValidationError", "ResourceNotFound"}


class ClientError(Exception):
    """Base of every error the client raises."""


class ApiError(ClientError):
    """The server answered with an error status."""

    def __init__(self, status: int, code: str, message: str, details: Doc | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details: Doc = details or {}

    @property
    def not_found(self) -> bool:
        """SageMaker answers a missing resource with a ValidationException "Could not find ..."."""
        message = self.message.lower()
        return self.code in NOT_FOUND_CODES and ("could not find" in message or "not found" in message)


class ServerUnreachable(ClientError):
    """Nothing answered at the base URL."""


class WaiterError(ClientError):
    """A wait ended without reaching the wanted state; ``last`` is the last DescribeEndpoint answer."""

    def __init__(self, message: str, last: Doc | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.last: Doc = last or {}
