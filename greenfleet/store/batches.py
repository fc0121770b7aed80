"""Writing a batch of what the data plane recorded in memory (A/B assignments, paired answers) so that a store
that cannot be reached loses none of it and a record the store refuses holds none of the others back.

A connection error (:data:`UNREACHABLE`) or any error that is not the store's gives the whole batch back for
the next try and is raised. A batch the store refuses for its content (another ``DBAPIError``: a constraint, a
value it cannot hold) is written one record at a time; the refused ones are logged and dropped (given back,
they would fail every later write)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

__all__ = ["UNREACHABLE", "write_batch"]

log = logging.getLogger("greenfleet.store")
UNREACHABLE = (OperationalError, InterfaceError)
"""Errors of the connection to the store, not of what was written."""
_R = TypeVar("_R")


def write_batch(records: list[_R], write: Callable[[list[_R]], None], give_back: Callable[[list[_R]], None],
                describe: Callable[[_R], str]) -> int:
    """Write ``records``; how many the store refused (dropped). Raises what made it give them back."""
    try:
        write(records)
        return 0
    except DBAPIError as exc:
        if isinstance(exc, UNREACHABLE):
            give_back(records)
            raise
    except Exception:
        give_back(records)
        raise
    return _one_by_one(records, write, give_back, describe)


def _one_by_one(records: Sequence[_R], write: Callable[[list[_R]], None], give_back: Callable[[list[_R]], None],
                describe: Callable[[_R], str]) -> int:
    refused = 0
    for index, record in enumerate(records):
        try:
            write([record])
        except DBAPIError as exc:
            if isinstance(exc, UNREACHABLE):
                give_back(list(records[index:]))
                raise
            refused += 1
            log.warning("the store refused %s (%s); dropped", describe(record),
                        type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__)
        except Exception:
            give_back(list(records[index:]))
            raise
    return refused
