"""SageMaker hosting instance types as what a scheduler reserves for one instance: vCPUs, memory and
GPUs (AWS's published figures for the ml.* hosting types). A remote backend (Ray) asks for these; the
local backend runs every instance as a process whatever its type."""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3


@dataclass(frozen=True)
class Capacity:
    vcpus: float
    memory_bytes: int
    gpus: int = 0


def _t(vcpus: float, memory_gib: float, gpus: int = 0) -> Capacity:
    return Capacity(vcpus, int(memory_gib * GIB), gpus)


INSTANCE_TYPES: dict[str, Capacity] = {
    "ml.t2.medium": _t(2, 4), "ml.t2.large": _t(2, 8), "ml.t2.xlarge": _t(4, 16), "ml.t2.2xlarge": _t(8, 32),
    "ml.m5.large": _t(2, 8), "ml.m5.xlarge": _t(4, 16), "ml.m5.2xlarge": _t(8, 32), "ml.m5.4xlarge": _t(16, 64),
    "ml.m5.12xlarge": _t(48, 192), "ml.m5.24xlarge": _t(96, 384),
    "ml.m6i.large": _t(2, 8), "ml.m6i.xlarge": _t(4, 16), "ml.m6i.2xlarge": _t(8, 32), "ml.m6i.4xlarge": _t(16, 64),
    "ml.c5.large": _t(2, 4), "ml.c5.xlarge": _t(4, 8), "ml.c5.2xlarge": _t(8, 16), "ml.c5.4xlarge": _t(16, 32),
    "ml.c5.9xlarge": _t(36, 72), "ml.c5.18xlarge": _t(72, 144),
    "ml.c6i.large": _t(2, 4), "ml.c6i.xlarge": _t(4, 8), "ml.c6i.2xlarge": _t(8, 16), "ml.c6i.4xlarge": _t(16, 32),
    "ml.r5.large": _t(2, 16), "ml.r5.xlarge": _t(4, 32), "ml.r5.2xlarge": _t(8, 64), "ml.r5.4xlarge": _t(16, 128),
    "ml.g4dn.xlarge": _t(4, 16, 1), "ml.g4dn.2xlarge": _t(8, 32, 1), "ml.g4dn.4xlarge": _t(16, 64, 1),
    "ml.g4dn.8xlarge": _t(32, 128, 1), "ml.g4dn.12xlarge": _t(48, 192, 4),
    "ml.g5.xlarge": _t(4, 16, 1), "ml.g5.2xlarge": _t(8, 32, 1), "ml.g5.4xlarge": _t(16, 64, 1),
    "ml.g5.12xlarge": _t(48, 192, 4), "ml.g5.48xlarge": _t(192, 768, 8),
    "ml.g6.xlarge": _t(4, 16, 1), "ml.g6.2xlarge": _t(8, 32, 1), "ml.g6.12xlarge": _t(48, 192, 4),
    "ml.p3.2xlarge": _t(8, 61, 1), "ml.p3.8xlarge": _t(32, 244, 4), "ml.p3.16xlarge": _t(64, 488, 8),
    "ml.p4d.24xlarge": _t(96, 1152, 8), "ml.p5.48xlarge": _t(192, 2048, 8),
}

DEFAULT = Capacity(1, 0)
"""An instance type missing from the table (or an adopted instance): one CPU, no memory reservation."""


def capacity(instance_type: str | None) -> Capacity:
    return INSTANCE_TYPES.get(instance_type or "", DEFAULT)
