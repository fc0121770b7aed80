"""The reconciler's start returns after its first pass: a server that starts listening afterwards has
already health-checked the instances it adopted and published them (end to end:
tests/live/test_restart_live.py, where a restarted server's first invocation of an endpoint described as
InService once raced that pass and got "not found")."""

from __future__ import annotations

from pathlib import Path

from greenfleet.server import Server
from greenfleet.settings import Settings
from tests.services.test_hosting import config, model


def test_start_returns_after_the_first_pass(tmp_path: Path) -> None:
    server = Server(Settings(home=tmp_path / "home"))
    try:
        server.services.models.create_model(model())
        server.services.models.create_endpoint_config(config())
        server.services.endpoints.create_endpoint({"EndpointName": "e", "EndpointConfigName": "c1"})
        assert server.router.table.get("e") is None
        server.reconciler.start()
        assert server.reconciler.passes >= 1
        assert [m.spec.endpoint_name for m in server.reconciler.instances.values()] == ["e"]
    finally:
        server.stop_controllers(stop_instances=True)
        server.engine.dispose()
