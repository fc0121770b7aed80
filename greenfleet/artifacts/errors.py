"""The one error the artifact fetcher raises."""

from __future__ import annotations

from greenfleet.errors import ValidationError

__all__ = ["ArtifactError"]


class ArtifactError(ValidationError):
    """Model data could not be fetched or unpacked; ``message`` says exactly why, for a FailureReason."""
