"""Schema migrations: an empty store is brought to Alembic's head, and a store already there is
recognised without importing Alembic (so the running server never holds it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from greenfleet.store.database import HEAD_REVISION, MIGRATIONS, create_store_engine, current_revision, migrate


def test_head_revision_is_alembics_head() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION


def test_migrate_builds_an_empty_store_then_leaves_alembic_unimported(database_url: str) -> None:
    engine = create_store_engine(database_url)
    migrate(engine)
    assert current_revision(engine) == HEAD_REVISION
    assert {"models", "endpoint_configs", "endpoints", "deployments"} <= set(inspect(engine).get_table_names())
    engine.dispose()
    probe = ("import sys\nfrom greenfleet.store.database import create_store_engine, migrate\n"
             f"migrate(create_store_engine({database_url!r}))\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_a_store_behind_head_is_upgraded(tmp_path: Path) -> None:
    from alembic import command

    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_store_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    assert current_revision(engine) == "0001"
    assert "deployments" not in inspect(engine).get_table_names()
    migrate(engine)
    assert current_revision(engine) == HEAD_REVISION
    assert "deployments" in inspect(engine).get_table_names()
