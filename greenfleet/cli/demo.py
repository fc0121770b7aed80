"""``greenfleet demo``: two models on one endpoint at 70/30, invoked N times, the split printed."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from greenfleet.cli.endpoints import render_endpoint
from greenfleet.cli.output import Doc, console, emit, table
from greenfleet.client import ClientError

if TYPE_CHECKING:
    from rich.console import Console

    from greenfleet import demo as demo_logic


def as_doc(result: demo_logic.DemoResult) -> Doc:
    variants = [{"VariantName": name, "Weight": weight, "Invocations": result.counts.get(name, 0),
                 "Share": result.share(name), "WithinBinomialBounds": result.within_bounds(name)}
                for name, weight in result.weights.items()]
    return {"Requests": result.requests, "Variants": variants, "FirstAnswer": result.sample,
            "InvocationSeconds": result.elapsed_s, "Endpoint": result.described}


def render(result: demo_logic.DemoResult, out: Console) -> None:
    rows = [(name, f"{result.expected(name):.0%}", result.counts.get(name, 0), f"{result.share(name):.1%}",
             "yes" if result.within_bounds(name) else "NO") for name in result.weights]
    out.print(table(["Variant", "Weight", "Invocations", "Observed", "Within binomial bounds"], rows,
                    title=f"Observed split over {result.requests} invocations "
                          f"({result.requests / max(result.elapsed_s, 1e-9):.0f} req/s, sequential)"))
    out.print(f"First answer: {result.sample}")
    out.print()
    render_endpoint(result.described, out)


@click.command(short_help="Serve two models at 70/30, invoke, print the split.")
@click.option("--port", type=int, default=8080, show_default=True, help="Port of the demo server (0: any free port).")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path),
              help="State directory to use and keep (default: a temporary one, removed afterwards).")
@click.option("--requests", type=click.IntRange(1), default=1000, show_default=True, help="Invocations to send.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def demo(port: int, home: Path | None, requests: int, as_json: bool) -> None:
    """Train two scikit-learn models, serve them at 70/30 on one endpoint, invoke it, print the split."""
    from greenfleet import demo as demo_logic  # the server and scikit-learn: only when the demo runs

    progress = console(stderr=True).print
    try:
        if home is not None:
            result = demo_logic.run(home, port, requests, progress)
        else:
            with tempfile.TemporaryDirectory(prefix="greenfleet-demo-") as scratch:
                result = demo_logic.run(Path(scratch), port, requests, progress)
    except ClientError as exc:
        raise click.ClickException(str(exc)) from exc
    except RuntimeError as exc:
        if "could not listen" not in str(exc):
            raise
        raise click.ClickException(f"{exc}: is another server using the port? (--port 0 picks a free one)") from exc
    emit(as_doc(result), as_json, lambda out: render(result, out))


def register(cli: click.Group) -> None:
    cli.add_command(demo)
