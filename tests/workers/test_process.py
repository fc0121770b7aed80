"""``main``: the garbage collector, off while a worker starts (``__main__.py``), is on when it serves."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from greenfleet.workers import process
from greenfleet.workers.server import InvocationApp


def test_main_serves_with_the_garbage_collector_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, logistic_model: Path
) -> None:
    served: list[tuple[bool, int]] = []

    def serve(app: InvocationApp, port: int, host: str = "127.0.0.1") -> None:
        served.append((gc.isenabled(), port))

    monkeypatch.setattr(process, "serve", serve)
    monkeypatch.setattr(process, "start_orphan_watchdog", lambda heartbeat, grace_s: None)
    monkeypatch.setenv("SAGEMAKER_BIND_TO_PORT", "8123")
    monkeypatch.setenv("SM_MODEL_DIR", str(tmp_path / "model"))
    monkeypatch.setenv("GREENFLEET_IMAGE", "greenfleet/sklearn")
    monkeypatch.setenv("GREENFLEET_MODEL_DATA_URL", str(logistic_model))
    monkeypatch.setenv("GREENFLEET_FAILURE_FILE", str(tmp_path / "failure"))
    gc.disable()
    try:
        assert process.main() == 0
    finally:
        gc.enable()
    assert served == [(True, 8123)]
    assert not (tmp_path / "failure").exists()
