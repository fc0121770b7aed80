"""A ``greenfleet router`` process's router takes the server's settings for what it decides alone: how long
it holds a request while a serverless variant starts from zero (GREENFLEET_SERVERLESS_COLD_START_TIMEOUT_S;
it held 60 s whatever the setting)."""

from __future__ import annotations

from pathlib import Path

from greenfleet.router_process import RouterProcess
from greenfleet.settings import Settings
from greenfleet.store.database import create_store_engine, migrate


def test_the_router_process_holds_a_cold_start_as_long_as_the_setting_says(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", serverless_cold_start_timeout_s=7.5)
    settings.home.mkdir()
    engine = create_store_engine(settings.resolved_database_url())
    migrate(engine)
    engine.dispose()
    process = RouterProcess(settings, "127.0.0.1", 0)
    try:
        assert process.router.cold_start_timeout_s == 7.5
    finally:
        process.engine.dispose()
