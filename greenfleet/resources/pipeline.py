"""An inference pipeline as an instance runs it: the document a pipeline model's instances are started
from (kept in the endpoint's desired state and in each instance's record, like a single container's
definition).

    {"Mode": "Serial" | "Direct",
     "Containers": [{"ContainerHostname": "...", "Image": "...", "ModelDataUrl": "...", "Environment": {...}}, ...]}

Every container has a hostname: the one the model gave, else ``container-<position>`` (SageMaker assigns
one from the position when none is given; its exact form is not documented)."""

from __future__ import annotations

from typing import Any, Literal

Mode = Literal["Serial", "Direct"]
MODES: tuple[Mode, ...] = ("Serial", "Direct")
MIN_CONTAINERS, MAX_CONTAINERS = 2, 15
"""A pipeline's size (SageMaker: an inference pipeline chains 2-15 containers)."""
HOSTNAME_HEADER = "X-Amzn-SageMaker-Target-Container-Hostname"


def is_pipeline(document: dict[str, Any]) -> bool:
    """True if an instance's document is a pipeline's (else it is one ContainerDefinition)."""
    return "Containers" in document


def hostnames(document: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(c["ContainerHostname"]) for c in document.get("Containers", ()))


def mode_of(document: dict[str, Any]) -> Mode:
    return "Direct" if document.get("Mode") == "Direct" else "Serial"


def default_hostname(position: int) -> str:
    return f"container-{position}"
