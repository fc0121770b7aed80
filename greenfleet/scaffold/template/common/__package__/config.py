"""The project's settings, read from ``greenfleet-project.yaml`` at the repository's root."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG_FILE = ROOT / "greenfleet-project.yaml"


class ConfigError(Exception):
    """The configuration file is missing a setting or holds a wrong one."""


@dataclass(frozen=True)
class Server:
    url: str
    artifacts: str | None = None
    """Where the server reads this project's model data: ``s3://bucket/prefix`` (uploaded there with boto3),
    or unset when the server can read the pipeline's output directory (same machine or shared disk)."""


@dataclass(frozen=True)
class Config:
    project: str
    scenario: str
    dataset: str
    test_size: float
    random_state: int
    hyperparameters: dict[str, Any]
    metric: str
    threshold: float
    image: str
    groups: dict[str, str]
    branches: dict[str, str]
    servers: dict[str, Server] = field(default_factory=dict)

    def group_for_branch(self, branch: str | None) -> str:
        """The key of the group a branch registers into: ``branches`` says, anything else is ``feature``."""
        return self.branches.get(branch or "", "feature")

    def server(self, env: str) -> Server:
        if env not in self.servers:
            raise ConfigError(f"no server {env!r} in {CONFIG_FILE.name} (servers: {', '.join(self.servers)})")
        return self.servers[env]


def _need(doc: dict[str, Any], key: str, where: str) -> Any:
    if key not in doc:
        raise ConfigError(f"{where}: missing {key!r}")
    return doc[key]


def load(path: Path = CONFIG_FILE) -> Config:
    doc = yaml.safe_load(path.read_text()) or {}
    model = _need(doc, "model", path.name)
    condition = _need(doc, "condition", path.name)
    registry = _need(doc, "registry", path.name)
    servers = {env: Server(str(_need(spec, "url", f"servers.{env}")), spec.get("artifacts") or None)
               for env, spec in (doc.get("servers") or {}).items()}
    threshold = float(_need(condition, "threshold", "condition"))
    if not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"condition.threshold must be within 0..1, got {threshold}")
    return Config(project=str(_need(doc, "project", path.name)), scenario=str(doc.get("scenario", "baseline")),
                  dataset=str(_need(model, "dataset", "model")), test_size=float(model.get("test_size", 0.25)),
                  random_state=int(model.get("random_state", 0)),
                  hyperparameters=dict(model.get("hyperparameters") or {}),
                  metric=str(_need(condition, "metric", "condition")), threshold=threshold,
                  image=str(registry.get("image", "greenfleet/sklearn")),
                  groups=dict(_need(registry, "groups", "registry")),
                  branches=dict(registry.get("branches") or {}), servers=servers)
