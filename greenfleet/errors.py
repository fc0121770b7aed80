"""The errors greenfleet raises, each with the HTTP status and SageMaker error code it maps to.

    GreenfleetError
     ├── ValidationError        400  ValidationException   bad value, missing member, unknown field
     ├── ResourceNotFound       400  ResourceNotFound      a referenced resource does not exist
     ├── ResourceInUse          400  ResourceInUse         the name is taken / the resource is busy
     ├── ResourceLimitExceeded  400  ResourceLimitExceeded
     └── ConflictError          409  ConflictException     the update raced another writer
"""

from __future__ import annotations


class GreenfleetError(Exception):
    status_code = 400
    code = "InternalFailure"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def to_dict(self) -> dict[str, str]:
        return {"__type": self.code, "code": self.code, "message": self.message, "Message": self.message}


class ValidationError(GreenfleetError):
    code = "ValidationException"


class ResourceNotFound(GreenfleetError):
    code = "ResourceNotFound"


class ResourceInUse(GreenfleetError):
    code = "ResourceInUse"


class ResourceLimitExceeded(GreenfleetError):
    code = "ResourceLimitExceeded"


class ConflictError(GreenfleetError):
    status_code = 409
    code = "ConflictException"
