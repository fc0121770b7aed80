"""Benchmark launcher: `greenfleet server` with one scikit-learn endpoint, in the foreground.

    python bench/greenfleet_router.py --port 8600 --model /tmp/peers/data/model.pkl [--endpoint bench]

This process *is* the server: it runs `greenfleet server --port PORT --home TMP` through the CLI's own
entry point, so its pid, memory and CPU are the server's (the benchmark harness sums the server's
session and all its descendants, which includes the worker processes even though each worker runs in
a session of its own). Before the server starts, a detached helper process (double fork + setsid, so
it is neither in the server's session nor among its descendants) waits for the port, then creates
through the REST API:

    CreateModel           Image greenfleet/sklearn, ModelDataUrl = --model (a single .pkl is copied
                          into the instance's model directory as is)
    CreateEndpointConfig  one variant, InitialInstanceCount 1
    CreateEndpoint        --endpoint

and records wall-clock timestamps (time.time()) in the JSON file named by --status (or
$GF_BENCH_STATUS): launched, listening, endpoint_created (CreateEndpoint answered), in_service (first
DescribeEndpoint saying InService). The harness then polls POST /endpoints/<name>/invocations until
the first correct answer. Ctrl-C (SIGINT) stops the server, which stops its workers; the temporary
GREENFLEET_HOME is removed on the way out unless --keep-home is given.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path

LAUNCHED = time.time()


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True, help="port of the server's base URL")
    parser.add_argument("--model", required=True, help="ModelDataUrl: the peers' model.pkl (path or URL)")
    parser.add_argument("--endpoint", default="bench", help="endpoint name (default: bench)")
    parser.add_argument("--image", default="greenfleet/sklearn", help="container Image (default: greenfleet/sklearn)")
    parser.add_argument("--instances", type=int, default=1, help="InitialInstanceCount (default: 1)")
    parser.add_argument("--status", default=os.environ.get("GF_BENCH_STATUS"),
                        help="JSON file for the startup timestamps (default: $GF_BENCH_STATUS)")
    parser.add_argument("--home", help="GREENFLEET_HOME to use (default: a new temporary directory, removed at exit)")
    parser.add_argument("--keep-home", action="store_true", help="do not remove the temporary home at exit")
    return parser.parse_args(argv)


# ---------------------------------------------------------------- the helper (runs detached)
def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _call(port: int, method: str, path: str, body: object | None = None) -> tuple[int, dict[str, object]]:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        data = None if body is None else json.dumps(body).encode()
        conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        raw = response.read()
        return response.status, (json.loads(raw) if raw else {})
    finally:
        conn.close()


def _create(args: argparse.Namespace) -> dict[str, object]:
    status: dict[str, object] = {"launched": LAUNCHED, "port": args.port, "endpoint": args.endpoint,
                                 "model_data_url": args.model, "home": args.resolved_home,
                                 "server_pid": args.server_pid}
    deadline = time.time() + 120
    while not _listening(args.port):
        if time.time() > deadline:
            raise RuntimeError(f"the server never listened on port {args.port}")
        time.sleep(0.02)
    status["listening"] = time.time()
    name = args.endpoint
    steps = [
        ("/api/models", {"ModelName": f"{name}-model",
                         "PrimaryContainer": {"Image": args.image, "ModelDataUrl": args.model}}),
        ("/api/endpoint-configs", {"EndpointConfigName": f"{name}-config", "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": f"{name}-model", "InitialInstanceCount": args.instances,
             "InstanceType": "ml.m5.large", "InitialVariantWeight": 1.0}]}),
        ("/api/endpoints", {"EndpointName": name, "EndpointConfigName": f"{name}-config"}),
    ]
    for path, body in steps:
        code, answer = _call(args.port, "POST", path, body)
        if code >= 300:
            raise RuntimeError(f"POST {path} -> {code}: {answer}")
    status["endpoint_created"] = time.time()
    while time.time() < deadline:
        code, answer = _call(args.port, "GET", f"/api/endpoints/{name}")
        if answer.get("EndpointStatus") == "InService":
            status["in_service"] = time.time()
            break
        if answer.get("EndpointStatus") == "Failed":
            raise RuntimeError(f"endpoint failed: {answer.get('FailureReason')}")
        time.sleep(0.05)
    return status


def _write_status(path: str | None, status: dict[str, object]) -> None:
    if not path:
        return
    tmp = f"{path}.tmp"
    with open(tmp, "w") as out:
        json.dump(status, out)
    os.replace(tmp, path)


def _spawn_helper(args: argparse.Namespace) -> None:
    """Double fork: the helper is re-parented away from the server and leaves its session, so the
    harness's accounting (server session + descendants) never sees it."""
    first = os.fork()
    if first:
        os.waitpid(first, 0)
        return
    try:
        if os.fork():
            os._exit(0)
        os.setsid()
        try:
            status = _create(args)
        except Exception as exc:
            status = {"launched": LAUNCHED, "error": f"{type(exc).__name__}: {exc}"}
            print(f"greenfleet_router helper: {status['error']}", file=sys.stderr, flush=True)
        _write_status(args.status, status)
    finally:
        os._exit(0)


# ---------------------------------------------------------------- the server (this process)
def main(argv: list[str] | None = None) -> int:
    args = _parse(sys.argv[1:] if argv is None else argv)
    home = args.home or tempfile.mkdtemp(prefix="greenfleet-bench-")
    if args.status and os.path.exists(args.status):
        os.remove(args.status)
    args.resolved_home, args.server_pid = home, os.getpid()
    _spawn_helper(args)
    from greenfleet.cli.main import cli  # imported after the fork: the helper stays stdlib-only

    if "://" not in args.model or args.model.startswith("file://"):  # the server reads local model data only
        local = Path(args.model.removeprefix("file://")).resolve()  # from GREENFLEET_MODEL_DATA_ROOTS
        os.environ["GREENFLEET_MODEL_DATA_ROOTS"] = os.pathsep.join([str(local.parent), home])

    try:
        cli.main(["server", "--port", str(args.port), "--home", home], prog_name="greenfleet",
                 standalone_mode=False)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        pass
    finally:
        if not args.home and not args.keep_home:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
