"""The public names of the metric, alarm and event packages: declared, sorted and importable."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["greenfleet.metrics", "greenfleet.alarms", "greenfleet.events"])
def test_all_is_sorted_and_resolvable(package: str) -> None:
    module = importlib.import_module(package)
    # ruff's order (RUF022): constants, then classes, then functions, each alphabetical
    kind = {True: 0, False: 1}
    ordered = sorted(module.__all__, key=lambda n: (kind[n.isupper()], n[0].islower(), n))
    assert module.__all__ == ordered and len(set(module.__all__)) == len(module.__all__)
    assert all(hasattr(module, name) for name in module.__all__)


@pytest.mark.parametrize("route", ["metrics", "alarms", "events", "prometheus"])
def test_route_modules_expose_a_router(route: str) -> None:
    from fastapi import APIRouter

    module = importlib.import_module(f"greenfleet.api.routes.{route}")
    assert isinstance(module.router, APIRouter)
