"""The project's settings, read from ``greenfleet-project.yaml`` at the repository's root."""

from __future__ import annotations

import os
import sys
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
    endpoints: dict[str, str]
    """Group key → the endpoint bound to that group on the test and prod servers (CI's checks use it)."""
    servers: dict[str, Server] = field(default_factory=dict)

    def group_for_branch(self, branch: str | None) -> str:
        """The key of the group a branch registers into: ``branches`` says, anything else is ``feature``."""
        return self.branches.get(branch or "", "feature")

    def server(self, env: str) -> Server:
        """Server ``env``; the variable GREENFLEET_<ENV>_URL (set by CI) replaces its configured address."""
        if env not in self.servers:
            raise ConfigError(f"no server {env!r} in {CONFIG_FILE.name} (servers: {', '.join(self.servers)})")
        server = self.servers[env]
        override = os.environ.get(f"GREENFLEET_{env.upper()}_URL")
        return Server(override, server.artifacts) if override else server


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
                  branches=dict(registry.get("branches") or {}), endpoints=dict(registry.get("endpoints") or {}),
                  servers=servers)


def main(argv: list[str]) -> int:
    """``python -m PACKAGE.config url ENV`` prints server ENV's address, ``group KEY`` a group's name and
    ``endpoint KEY`` the endpoint bound to that group (for CI scripts)."""
    if len(argv) != 2 or argv[0] not in ("url", "group", "endpoint"):
        print("usage: python -m PACKAGE.config url ENV | group KEY | endpoint KEY", file=sys.stderr)
        return 2
    config = load()
    try:
        if argv[0] == "url":
            print(config.server(argv[1]).url)
            return 0
        table = config.groups if argv[0] == "group" else config.endpoints
        if argv[1] not in table:
            raise ConfigError(f"no {argv[0]} {argv[1]!r} in registry.{argv[0]}s ({', '.join(table) or 'none'})")
        print(table[argv[1]])
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
