"""Schema migrations: an empty store is brought to Alembic's head, and a store already there is
recognised without importing Alembic (so the running server never holds it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from greenfleet.store.database import HEAD_REVISION, MIGRATIONS, create_store_engine, current_revision, migrate
from greenfleet.store.repository import Repository


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


def test_0004_splits_endpoint_state_and_structures_instances_and_back(tmp_path: Path) -> None:
    """0003's one state document (a deployment in progress) → desired fleets + observed figures; instance
    rows keyed by group_key/pid/token → structured columns; and the downgrade restores the 0003 shapes."""
    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_store_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    def variant(name: str, count: int, current: int) -> dict[str, object]:
        return {"VariantName": name, "ModelName": f"m-{name}", "Container": {"Image": "greenfleet/sklearn"},
                "DesiredWeight": 1.0, "CurrentWeight": 1.0 if current else 0.0, "DesiredInstanceCount": count,
                "CurrentInstanceCount": current, "RoutingStrategy": "RANDOM", "StartupTimeoutS": None,
                "InstanceType": "ml.m5.large", "Serverless": False}

    old_state = {"variants": [variant("a", 1, 1)], "shadow_variants": [], "data_capture": None, "fleet_id": 1,
                 "last_deployment_config": None,
                 "pending": {"fleet_id": 2, "config_name": "c2", "variants": [variant("a", 1, 0)],
                             "target_counts": {"a": 1}, "traffic": 10, "data_capture": None, "shadow_variants": []},
                 "deployment": {"id": "d1", "rollout": {"x": 1}, "commands": []},
                 "deployment_view": {"ProductionVariants": []}}
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(text(
            "INSERT INTO endpoints VALUES ('e', 'arn', 'c1', 'Updating', NULL, 1.0, 2.0, :state, 7)"),
            {"state": json.dumps(old_state)})
        connection.execute(text("INSERT INTO deployments VALUES ('d1', 'e', 1.0, NULL, NULL, -1, :s)"),
                           {"s": json.dumps({"x": 1})})
        connection.execute(text("INSERT INTO instances VALUES ('i-green', 'e', 'e/2/a', 4242, 31337, 'tok', 1.5, 2.5)"))
    migrate(engine)
    repo = Repository(engine)
    row = repo.get_endpoint("e")
    assert row is not None and row["revision"] == 7
    desired = row["state"]
    assert [(f.id, f.config_name, f.traffic) for f in desired.fleets] == [(1, "c1", 90.0), (2, "c2", 10.0)]
    assert desired.current.variants[0].routing_strategy == "RANDOM" and desired.pending.target_counts == {"a": 1}
    assert desired.deployment.id == "d1"
    observed = repo.get_observation("e")
    assert observed.variant(1, "a").current_count == 1 and observed.deployment_view == {"ProductionVariants": []}
    (instance,) = repo.list_instances()
    assert (instance["fleet_id"], instance["config_name"], instance["variant_name"], instance["host"],
            instance["port"], instance["backend_ref"]) == (2, "c2", "a", "127.0.0.1", 31337,
                                                           {"pid": 4242, "token": "tok"})
    assert instance["container"] == {"Image": "greenfleet/sklearn"}
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
        state = json.loads(connection.execute(text("SELECT state FROM endpoints")).scalar_one())
        old_instance = connection.execute(text("SELECT group_key, pid, token FROM instances")).one()
    assert state["pending"]["traffic"] == 10.0 and state["deployment"]["rollout"] == {"x": 1}
    assert state["variants"][0]["CurrentInstanceCount"] == 1 and tuple(old_instance) == ("e/2/a", 4242, "tok")
    engine.dispose()
