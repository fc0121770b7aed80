"""What every client command shares: ``--url``/``--json`` options, the client, errors, and rendering
(rich tables for people, raw JSON with ``--json``)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from greenfleet.client import DEFAULT_URL, ApiError, Client, ClientError

if TYPE_CHECKING:  # rich is imported where it draws, so that the CLI starts fast
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table

Doc = dict[str, Any]
F = TypeVar("F", bound=Callable[..., Any])
PIPE_WIDTH = 160


def client_options(func: F) -> F:
    """Add ``--url`` (or GREENFLEET_URL) and ``--json`` to a command."""
    func = click.option("--json", "as_json", is_flag=True, help="Print the API's raw JSON answer.")(func)
    return click.option("--url", envvar="GREENFLEET_URL", default=DEFAULT_URL, show_default=True,
                        help="Base URL of the greenfleet server (GREENFLEET_URL).")(func)


@contextmanager
def connect(url: str) -> Iterator[Client]:
    """A client for ``url``; its errors become a one-line message and exit status 1."""
    token = click.get_current_context().find_root().params.get("token") if click.get_current_context(
        silent=True) else None
    client = Client(url, token=token)
    try:
        yield client
    except ApiError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from exc
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        client.close()


def console(stderr: bool = False) -> Console:
    """A rich console; when the output is not a terminal, wide enough not to fold ARNs and paths."""
    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() else PIPE_WIDTH
    return Console(file=stream, highlight=False, width=width)


def print_json(doc: Any) -> None:
    click.echo(json.dumps(doc, indent=2, default=str))


def emit(doc: Any, as_json: bool, render: Callable[[Console], None]) -> None:
    """Print ``doc`` as JSON with ``--json``, else let ``render`` draw it for people."""
    if as_json:
        print_json(doc)
    else:
        render(console())


def when(timestamp: Any) -> str:
    """An epoch-seconds timestamp as local time, to the second."""
    if timestamp is None or timestamp == "":
        return "-"
    try:
        return datetime.fromtimestamp(float(timestamp)).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError):
        return str(timestamp)


def number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> Table:
    from rich.table import Table

    grid = Table(*columns, title=title, title_justify="left", show_edge=False, pad_edge=False)
    for row in rows:
        grid.add_row(*(str(cell) for cell in row))
    return grid


class KeyValues:
    """Key/value lines, keys aligned, values as they are: no trailing padding (a grid pads every line to its
    widest, up to the console's width), so piped output stays as wide as its content."""

    def __init__(self, pairs: Iterable[tuple[str, Any]]) -> None:
        self.pairs = [(key, str(value)) for key, value in pairs if value not in (None, "", [], {})]

    def __rich_console__(self, out: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text

        width = max((len(key) for key, _ in self.pairs), default=0) + 2
        for key, value in self.pairs:
            line = Text(key.ljust(width), style="bold")
            line.append(value)
            yield line


def fields(pairs: Iterable[tuple[str, Any]]) -> KeyValues:
    """Key/value lines, skipping empty values."""
    return KeyValues(pairs)


def parse_pairs(values: Iterable[str], option: str) -> dict[str, str]:
    """``K=V`` option values as a dict; a value without ``=`` is a usage error naming the option."""
    result: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}", param_hint=option)
        result[key] = rest
    return result


def tag_list(values: Iterable[str]) -> list[Doc]:
    return [{"Key": k, "Value": v} for k, v in parse_pairs(values, "--tag").items()]


def done(message: str, doc: Doc, as_json: bool) -> None:
    """Report a create/delete: the answer as JSON, or one line for people."""
    if as_json:
        print_json(doc)
    else:
        click.echo(message)
