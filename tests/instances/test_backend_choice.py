"""GREENFLEET_BACKEND: the named backend or a clear error at start, never a setting silently ignored."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from greenfleet.cli.main import cli
from greenfleet.instances.factory import BackendUnavailable, create_backend
from greenfleet.instances.instance_types import DEFAULT, INSTANCE_TYPES, capacity
from greenfleet.instances.isolation import Isolation
from greenfleet.instances.local import LocalProcessBackend
from greenfleet.server import ConfigurationError, Server
from greenfleet.settings import Settings


def test_the_local_backend_is_the_default(tmp_path: Path) -> None:
    backend = create_backend(Settings(home=tmp_path), Isolation(), tmp_path / "server.lock")
    assert isinstance(backend, LocalProcessBackend)


def test_an_unknown_backend_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="'local' or 'ray'"):
        Settings(home=tmp_path, backend="kubernetes")  # type: ignore[arg-type]
    result = CliRunner().invoke(cli, ["server", "--home", str(tmp_path)], env={"GREENFLEET_BACKEND": "nomad"})
    assert result.exit_code != 0
    assert "GREENFLEET_BACKEND: Input should be 'local' or 'ray'" in result.output


def test_a_ray_address_without_the_ray_backend_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(BackendUnavailable, match="GREENFLEET_RAY_ADDRESS is set but GREENFLEET_BACKEND is local"):
        create_backend(Settings(home=tmp_path, ray_address="10.0.0.1:6379"), Isolation(), tmp_path / "lock")
    monkeypatch.setenv("GREENFLEET_RAY_NAMESPACE", "team-a")
    with pytest.raises(BackendUnavailable, match="GREENFLEET_RAY_NAMESPACE is set"):
        create_backend(Settings(home=tmp_path), Isolation(), tmp_path / "lock")


def test_idle_shadow_scheduling_is_refused_where_the_system_has_no_sched_idle(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr("os.SCHED_IDLE", raising=False)
    with pytest.raises(BackendUnavailable, match="GREENFLEET_SHADOW_SCHEDULING=idle needs Linux's SCHED_IDLE"):
        create_backend(Settings(home=tmp_path, shadow_scheduling="idle"), Isolation(), tmp_path / "lock")
    # Left at its default, it is not a request: the shadow keeps the niceness alone there.
    assert isinstance(create_backend(Settings(home=tmp_path), Isolation(), tmp_path / "lock"), LocalProcessBackend)
    assert isinstance(create_backend(Settings(home=tmp_path, shadow_scheduling="nice"), Isolation(),
                                     tmp_path / "lock"), LocalProcessBackend)


def test_the_ray_backend_needs_an_address(tmp_path: Path) -> None:
    with pytest.raises(BackendUnavailable, match="needs GREENFLEET_RAY_ADDRESS"):
        create_backend(Settings(home=tmp_path, backend="ray"), Isolation(), tmp_path / "lock")


def test_the_ray_backend_without_ray_installed_names_the_extra(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    settings = Settings(home=tmp_path / "home", port=1, backend="ray", ray_address="127.0.0.1:6379")
    with pytest.raises(ConfigurationError, match=r"pip install 'greenfleet\[ray\]'"):
        Server(settings)
    # the refused server let go of its home: the next one starts
    Server(Settings(home=tmp_path / "home", port=1)).stop_controllers(stop_instances=False)


def test_instance_types_map_to_reservations() -> None:
    assert capacity("ml.g5.xlarge") == INSTANCE_TYPES["ml.g5.xlarge"]
    assert (capacity("ml.g5.xlarge").vcpus, capacity("ml.g5.xlarge").gpus) == (4, 1)
    assert capacity("ml.m5.large").memory_bytes == 8 * 1024**3 and capacity("ml.m5.large").gpus == 0
    assert capacity("ml.unknown.huge") == DEFAULT == capacity(None)
