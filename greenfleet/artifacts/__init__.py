"""Model artifacts: fetch a ModelDataUrl (path, file://, http(s)://, s3://) and unpack it safely.

``install_model_data`` (fetch.py) is the entry point; ``extract_tar`` (archive.py) unpacks one
tarball; ``SizeBudget`` (budget.py) enforces the unpacked-size limit; every failure is an
``ArtifactError`` (errors.py) with a precise message.
"""

from __future__ import annotations

from greenfleet.artifacts.archive import compression_of, extract_tar
from greenfleet.artifacts.budget import SizeBudget
from greenfleet.artifacts.errors import ArtifactError
from greenfleet.artifacts.fetch import describe_url, install_model_data

__all__ = [
    "ArtifactError",
    "SizeBudget",
    "compression_of",
    "describe_url",
    "extract_tar",
    "install_model_data",
]
