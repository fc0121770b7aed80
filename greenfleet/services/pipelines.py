"""CreateModel's checks of an inference pipeline (2-15 ``Containers`` and ``InferenceExecutionConfig``),
and the document its instances run (``greenfleet.resources.pipeline``)."""

from __future__ import annotations

import re
from typing import Any

from greenfleet.errors import ValidationError
from greenfleet.resources.pipeline import MAX_CONTAINERS, MODES, default_hostname

Doc = dict[str, Any]
_HOSTNAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def check_pipeline(containers: list[Doc], execution: Doc | None) -> None:
    """SageMaker's rules for ``Containers``: at most 15; ContainerHostname given for all or none (all in
    Direct mode), valid and unique."""
    if len(containers) > MAX_CONTAINERS:
        raise ValidationError(f"1 validation error detected: Value at 'containers' failed to satisfy constraint: "
                              f"Member must have length less than or equal to {MAX_CONTAINERS} "
                              f"({len(containers)} containers given)")
    mode = (execution or {}).get("Mode", "Serial")
    if mode not in MODES:
        raise ValidationError(f"1 validation error detected: Value '{mode}' at 'inferenceExecutionConfig.mode' "
                              "failed to satisfy constraint: Member must satisfy enum value set: [Serial, Direct]")
    named = [c.get("ContainerHostname") for c in containers]
    if mode == "Direct" and not all(named):
        raise ValidationError("ContainerHostname must be specified for every container when "
                              "InferenceExecutionConfig.Mode is Direct")
    if any(named) and not all(named):
        raise ValidationError("ContainerHostname must be specified for all containers or for none of them")
    for index, name in enumerate(named, start=1):
        if name and not _HOSTNAME.match(str(name)):
            raise ValidationError(f"Value '{name}' at 'containers.{index}.member.containerHostname' failed to "
                                  "satisfy constraint: Member must satisfy regular expression pattern: "
                                  "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
    given = [str(n) for n in named if n]
    duplicates = sorted({n for n in given if given.count(n) > 1})
    if duplicates:
        raise ValidationError(f"ContainerHostname must be unique within a model; duplicated: {', '.join(duplicates)}")


def pipeline_document(containers: list[Doc], execution: Doc | None) -> Doc:
    """What each instance of a pipeline model runs: its containers, in order, each with a hostname."""
    listed = []
    for position, container in enumerate(containers, start=1):
        entry = dict(container)
        entry.setdefault("ContainerHostname", default_hostname(position))
        listed.append(entry)
    return {"Mode": (execution or {}).get("Mode", "Serial"), "Containers": listed}
