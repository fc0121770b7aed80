"""One Alembic step on a store, for tests of a migration: the store brought to (or back to) a revision, with
the step's connection to write or read rows in the same transaction."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Literal

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from greenfleet.store.database import MIGRATIONS


@contextlib.contextmanager
def alembic_step(engine: Engine, direction: Literal["upgrade", "downgrade"], revision: str) -> Iterator[Connection]:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.upgrade if direction == "upgrade" else command.downgrade)(config, revision)
        yield connection
