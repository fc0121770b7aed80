"""Registry names: ARNs of groups and versions, SageMaker's VersionedArnOrName forms, and the
deterministic names of the Model and EndpointConfig a binding creates for a version."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from greenfleet.errors import ValidationError

ENTITY_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
MAX_NAME = 63


@dataclass(frozen=True, slots=True)
class VersionRef:
    """A version named by ARN (``arn`` set) or by ``group/N`` (``group`` and ``version`` set)."""

    arn: str | None = None
    group: str | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class RegistryArns:
    region: str
    account_id: str

    def group(self, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:model-package-group/{name.lower()}"

    def version(self, group: str, version: int) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:model-package/{group.lower()}/{version}"


def check_entity_name(value: str, member: str) -> str:
    if not ENTITY_NAME.fullmatch(value):
        raise ValidationError(f"Value '{value}' at '{member}' failed to satisfy constraint: Member must satisfy "
                              "regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
    return value


def group_name_of(value: str) -> str:
    """A group given by name or ARN → the name part (lower-cased when given as an ARN)."""
    if value.startswith("arn:"):
        marker = ":model-package-group/"
        if marker not in value:
            raise ValidationError(f"'{value}' is not a model package group ARN")
        return value.split(marker, 1)[1]
    return value


def parse_version_ref(value: str, member: str = "ModelPackageName") -> VersionRef:
    """SageMaker's VersionedArnOrName: a version ARN or ``group/N``. A bare name would be an
    unversioned package, which greenfleet does not hold."""
    if value.startswith("arn:"):
        marker = ":model-package/"
        rest = value.split(marker, 1)[1] if marker in value else ""
        group, _, number = rest.rpartition("/")
        if not group or not number.isdigit():
            raise ValidationError(f"{member}: '{value}' is not a versioned model package ARN "
                                  "(arn:aws:sagemaker:REGION:ACCOUNT:model-package/GROUP/N)")
        return VersionRef(arn=value.lower())
    group, _, number = value.rpartition("/")
    if group and number.isdigit() and int(number) >= 1:
        return VersionRef(group=group, version=int(number))
    raise ValidationError(f"{member}: '{value}' does not name a model package version; give its ARN or "
                          "GROUP/VERSION (greenfleet holds versioned model packages only)")


def bounded(*parts: str) -> str:
    """``part1-part2-...`` as a SageMaker entity name: kept as is when it fits in 63 characters, otherwise
    shortened with a hash of the whole so that distinct inputs keep distinct names."""
    whole = "-".join(parts)
    if len(whole) <= MAX_NAME:
        return whole
    digest = hashlib.sha256(whole.encode()).hexdigest()[:8]
    tail = parts[-1]
    head = "-".join(parts[:-1])[: MAX_NAME - len(tail) - len(digest) - 2].rstrip("-")
    return f"{head}-{digest}-{tail}"


def model_name(group: str, version: int) -> str:
    """The Model a binding creates for a version (the same for every endpoint bound to the group)."""
    return bounded(group, f"v{version}")


def config_name(endpoint: str, group: str, version: int) -> str:
    """The EndpointConfig a binding creates to serve ``version`` on ``endpoint``."""
    return bounded(endpoint, group, f"v{version}")
