"""Who is calling, for the audit trail. The faces set it per request: the SageMaker protocol from the
SigV4 credential's access key id, the native API from ``X-Greenfleet-Caller`` (the CLI sends the OS user
or ``--by``); services read it with :func:`caller`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

CALLER: ContextVar[str | None] = ContextVar("greenfleet_caller", default=None)
CALLER_HEADER = "x-greenfleet-caller"
ANONYMOUS = "anonymous"
_CREDENTIAL = re.compile(r"Credential=([A-Za-z0-9]+)/")


def caller() -> str:
    return CALLER.get() or ANONYMOUS


@contextmanager
def acting_as(who: str | None) -> Iterator[None]:
    """Run the block as ``who`` (the audit trail's "by")."""
    token = CALLER.set(who)
    try:
        yield
    finally:
        CALLER.reset(token)


def from_authorization(header: str | None) -> str | None:
    """The access key id of a SigV4 Authorization header (``aws:<key id>``)."""
    found = _CREDENTIAL.search(header or "")
    return f"aws:{found.group(1)}" if found else None


def from_header(value: str | None) -> str | None:
    if not value:
        return None
    cleaned = value.strip()[:256]
    return cleaned or None
