"""Validation failures that CloudWatch answers with an error code of their own rather than
InvalidParameterValue (ValidationError, InvalidParameterCombination)."""

from __future__ import annotations

from greenfleet.errors import ValidationError


class ParameterError(ValidationError):
    """A ValidationError (400 ValidationException on greenfleet's own API) that the CloudWatch protocols answer
    with ``cloudwatch_code``."""

    def __init__(self, message: str, cloudwatch_code: str) -> None:
        super().__init__(message)
        self.cloudwatch_code = cloudwatch_code


def combination(message: str) -> ParameterError:
    return ParameterError(message, "InvalidParameterCombination")


def validation(message: str) -> ParameterError:
    return ParameterError(message, "ValidationError")
