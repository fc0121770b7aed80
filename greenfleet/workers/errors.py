"""The errors of a worker process.

    WorkerError
     ├── StartupError            fetch/choose/load failed: the message goes to the failure file, exit 3
     │    └── MissingDependency  an optional extra or a framework package is not installed
     └── RequestError            one invocation failed; the worker keeps serving
          ├── ModelInputError        400  the body does not fit the model (bad JSON, wrong feature count)
          ├── NotAcceptable          406  no answer in a media type the Accept header allows
          ├── PayloadTooLarge        413  a body that must be read whole is over the worker's maximum
          └── UnsupportedContentType 415  the runtime cannot read this Content-Type

Any other exception raised by a model while answering is a 500 with its message.

``Blocking`` is not an error: a runtime raises it when an invocation made on the event loop would
block it (e.g. a one-time lazy load); the app then runs that invocation again on the model thread.
"""

from __future__ import annotations

__all__ = [
    "Blocking",
    "MissingDependency",
    "ModelInputError",
    "NotAcceptable",
    "PayloadTooLarge",
    "RequestError",
    "StartupError",
    "UnsupportedContentType",
    "WorkerError",
]


class WorkerError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class StartupError(WorkerError):
    """The worker cannot serve; ``message`` becomes the endpoint's FailureReason."""


class MissingDependency(StartupError):
    """A Python package the image needs is not importable."""


class RequestError(WorkerError):
    status_code = 500


class ModelInputError(RequestError):
    status_code = 400


class NotAcceptable(RequestError):
    status_code = 406


class PayloadTooLarge(RequestError):
    status_code = 413


class UnsupportedContentType(RequestError):
    status_code = 415


class Blocking(Exception):
    """This invocation would block the event loop: run it on the model thread instead."""
