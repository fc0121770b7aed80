"""The architecture's import rules, read from the source: every import statement of the checked modules
(also those inside functions), followed transitively through the greenfleet modules they import (there
through what runs at import time: module-level imports outside ``if TYPE_CHECKING``):

- the data plane (``greenfleet/router/``) never reaches the store (``greenfleet/store/``) or SQLAlchemy;
- the pure halves (``greenfleet/rollout/``, ``greenfleet/judge/``, the scaling controller) reach neither
  SQLAlchemy nor httpx;
- data capture (``greenfleet/capture/``, but for the control pass's counters step) never reaches the store;
- Model Monitor's pure halves (expressions, the scheduler, statistics, drift, checks, reports) reach
  neither the store, SQLAlchemy, httpx nor boto;
- the shadow-test and A/B controllers, the pairing and the paired report likewise;
- the data plane does not know asynchronous inference (``greenfleet/asyncinference/``): the dispatcher reads
  the router's table, never the other way round, so no synchronous request waits on the async queue."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "greenfleet"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _import_nodes(tree: ast.Module, deep: bool) -> list[ast.Import | ast.ImportFrom]:
    if deep:
        return [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.stmt] = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                todo.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            todo.extend(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])
    return found


@cache
def direct_imports(module: str, deep: bool) -> frozenset[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path)), deep):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(found)


def reachable(module: str) -> set[str]:
    """Every module name ``module`` imports (anywhere in it) and, transitively, those the greenfleet modules
    it reaches import when they are loaded (a package's ``__init__`` included, as Python runs it)."""
    seen: set[str] = set()
    todo = [(module, True)]
    while todo:
        current, deep = todo.pop()
        for name in direct_imports(current, deep):
            parts = name.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix not in seen:
                    seen.add(prefix)
                    if prefix in MODULES and prefix != current:
                        todo.append((prefix, False))
    return seen


def _in(package: str) -> list[str]:
    return sorted(m for m in MODULES if m == package or m.startswith(f"{package}."))


def _offenders(module: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(n for n in reachable(module) if any(n == f or n.startswith(f"{f}.") for f in forbidden))


@pytest.mark.parametrize("module", _in("greenfleet.router"))
def test_the_data_plane_never_reaches_the_store(module: str) -> None:
    assert _offenders(module, ("greenfleet.store", "sqlalchemy", "alembic")) == []


@pytest.mark.parametrize("module", _in("greenfleet.rollout") + _in("greenfleet.judge"))
def test_the_pure_halves_use_neither_sql_nor_http(module: str) -> None:
    assert _offenders(module, ("sqlalchemy", "httpx", "greenfleet.store")) == []


@pytest.mark.parametrize("module", _in("greenfleet.router"))
def test_the_data_plane_does_not_reach_the_async_queue(module: str) -> None:
    assert _offenders(module, ("greenfleet.asyncinference",)) == []


@pytest.mark.parametrize("module", [m for m in _in("greenfleet.capture") if m != "greenfleet.capture.observer"])
def test_data_capture_never_reaches_the_store(module: str) -> None:
    assert _offenders(module, ("greenfleet.store", "sqlalchemy", "alembic", "greenfleet.control")) == []


MONITORING_PURE = ("schedule", "scheduler", "statistics", "profile", "distance", "constraints", "violations",
                   "quality", "dataset", "baseline", "report", "jobs", "metrics")


@pytest.mark.parametrize("module", [f"greenfleet.monitoring.{name}" for name in MONITORING_PURE])
def test_model_monitors_pure_halves_use_neither_sql_http_nor_boto(module: str) -> None:
    assert _offenders(module, ("sqlalchemy", "httpx", "greenfleet.store", "boto3", "botocore")) == []


PURE_CONTROLLERS = ("greenfleet.experiments.machine", "greenfleet.experiments.pairs", "greenfleet.experiments.report",
                    "greenfleet.feedback.machine", "greenfleet.feedback.status")


@pytest.mark.parametrize("module", PURE_CONTROLLERS)
def test_shadow_tests_and_ab_tests_pure_halves_use_neither_sql_nor_http(module: str) -> None:
    """The experiment and A/B controllers, the pairing and the reports: the judge's statistics, no I/O."""
    assert _offenders(module, ("sqlalchemy", "httpx", "greenfleet.store", "boto3", "botocore")) == []


@pytest.mark.parametrize("module", ["greenfleet.scaling.machine", "greenfleet.scaling.policy",
                                    "greenfleet.scaling.config", "greenfleet.scaling.alarms",
                                    "greenfleet.scaling.serverless"])
def test_the_scaling_controller_is_pure(module: str) -> None:
    """The scaling controller and its sizing (issue 14) reach neither the store nor HTTP: its driver does."""
    assert _offenders(module, ("sqlalchemy", "httpx", "greenfleet.store")) == []


def test_the_rule_sees_a_violation() -> None:
    """The scan follows imports transitively: greenfleet.server reaches the store through its services."""
    assert "greenfleet.store.repository" in reachable("greenfleet.server")
    assert _offenders("greenfleet.control.rollout_driver", ("sqlalchemy",))
