"""A byte budget that unpacking spends as it writes, so a size limit holds whatever the headers claim."""

from __future__ import annotations

from typing import IO

from greenfleet.artifacts.errors import ArtifactError

__all__ = ["CHUNK_BYTES", "SizeBudget"]

CHUNK_BYTES = 1024 * 1024


class SizeBudget:
    """Counts the bytes actually written into a model directory and stops at ``limit``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, count: int, member: str) -> None:
        self.used += count
        if self.used > self.limit:
            raise ArtifactError(
                f"unpacked size exceeds the limit of {self.limit} bytes (GREENFLEET_ARTIFACT_MAX_BYTES) "
                f"while writing '{member}'"
            )

    def copy(self, source: IO[bytes], target: IO[bytes], member: str) -> None:
        """Copy ``source`` to ``target`` chunk by chunk, spending each chunk before it is written."""
        while chunk := source.read(CHUNK_BYTES):
            self.spend(len(chunk), member)
            target.write(chunk)
