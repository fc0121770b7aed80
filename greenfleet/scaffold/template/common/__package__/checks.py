"""Checks run against a deployed version, whose results CI records on it as evidence
(``greenfleet registry evidence add``) so that a target server can require them before an approval:

    python -m PACKAGE.checks wait --url URL --group GROUP --version N --endpoint NAME
    python -m PACKAGE.checks integration --url URL --endpoint NAME
    python -m PACKAGE.checks load --url URL --endpoint NAME --requests 200 --p95-ms 250
    python -m PACKAGE.checks shadow --url URL --champion NAME --challenger NAME   (advanced scenario)

Each prints one JSON line ``{"check", "status": "Passed"|"Failed", "details": {...}}`` and exits 0 when
the check passed, 1 when it failed, 2 when it could not run. ``python -m PACKAGE.checks evidence FILE``
turns such a line into the arguments of ``greenfleet registry evidence add`` (``--status`` and ``--detail``s)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from .config import load

if TYPE_CHECKING:  # numpy and scikit-learn load when a check runs: ``evidence`` starts fast
    import numpy as np

    from .data import Dataset


def _client(url: str) -> Any:
    from greenfleet.client import Client

    return Client(url, token=os.environ.get("GREENFLEET_API_TOKEN") or None)


def _csv(rows: np.ndarray) -> str:
    return "\n".join(",".join(repr(float(v)) for v in row) for row in rows)


def predictions(client: Any, endpoint: str, rows: np.ndarray) -> list[Any]:
    """The endpoint's answers for ``rows`` (one CSV request)."""
    answer = client.invoke_endpoint(EndpointName=endpoint, Body=_csv(rows), ContentType="text/csv",
                                    Accept="application/json")
    doc = json.loads(answer["Body"].read())
    values = doc.get("predictions", doc) if isinstance(doc, dict) else doc
    return [v[0] if isinstance(v, list) and len(v) == 1 else v for v in values]


def _held_out() -> Dataset:
    from .data import prepare

    config = load()
    return prepare(config.dataset, config.test_size, config.random_state)


def wait(client: Any, group: str, version: int, endpoint: str, timeout_s: float) -> dict[str, Any]:
    """Wait until ``endpoint`` serves ``group/version`` (approving it deploys it through the binding); fail
    at once if the binding's deployment of it failed and rolled back."""
    deadline, serving = time.monotonic() + timeout_s, None
    while time.monotonic() < deadline:
        champions = client.champion(ModelPackageGroupName=group)["Endpoints"]
        serving = next((e.get("ModelPackageVersion") for e in champions if e["EndpointName"] == endpoint), None)
        if serving == version:
            return {"status": "Passed", "details": {"endpoint": endpoint, "version": version}}
        if version in (client.describe_registry_binding(EndpointName=endpoint).get("FailedVersions") or []):
            return {"status": "Failed", "details": {"endpoint": endpoint, "version": version, "serving": serving,
                                                    "reason": "its deployment failed and was rolled back"}}
        time.sleep(2.0)
    return {"status": "Failed", "details": {"endpoint": endpoint, "version": version, "serving": serving}}


def integration(client: Any, endpoint: str) -> dict[str, Any]:
    """The endpoint answers every held-out row, and its answers are the ones this code's model gives."""
    import numpy as np

    from .model import train

    dataset = _held_out()
    config = load()
    local = train(dataset, config.hyperparameters).predict(dataset.x_test)
    remote = predictions(client, endpoint, dataset.x_test)
    agreement = float(np.mean([float(a) == float(b) for a, b in zip(remote, local, strict=False)])) \
        if len(remote) == len(local) else 0.0
    accuracy = float(np.mean([float(a) == float(b) for a, b in zip(remote, dataset.y_test, strict=False)]))
    status = "Passed" if len(remote) == len(local) and agreement == 1.0 else "Failed"
    return {"status": status, "details": {"rows": len(local), "answers": len(remote), "agreement": agreement,
                                          "accuracy": accuracy}}


def load_check(client: Any, endpoint: str, requests: int, p95_ms: float) -> dict[str, Any]:
    """``requests`` single-row requests, one after another; passes when none fails and p95 <= budget."""
    import numpy as np

    rows = _held_out().x_test
    latencies, errors = [], 0
    for index in range(requests):
        started = time.perf_counter()
        try:
            predictions(client, endpoint, rows[index % len(rows):index % len(rows) + 1])
        except Exception:  # any failed request counts against the check
            errors += 1
        latencies.append((time.perf_counter() - started) * 1000)
    p95 = float(np.percentile(latencies, 95))
    status = "Passed" if errors == 0 and p95 <= p95_ms else "Failed"
    return {"status": status, "details": {"requests": requests, "errors": errors, "p95_ms": round(p95, 2),
                                          "budget_p95_ms": p95_ms}}


def shadow(client: Any, champion: str, challenger: str, tolerance: float) -> dict[str, Any]:
    """Both endpoints answer the same held-out rows: their agreement and each one's accuracy. The
    challenger passes when its accuracy is at least the champion's less ``tolerance``."""
    import numpy as np

    dataset = _held_out()
    first = predictions(client, champion, dataset.x_test)
    second = predictions(client, challenger, dataset.x_test)
    truth = [float(v) for v in dataset.y_test]
    score = {name: float(np.mean([float(a) == b for a, b in zip(answers, truth, strict=True)]))
             for name, answers in (("champion", first), ("challenger", second))}
    agreement = float(np.mean([float(a) == float(b) for a, b in zip(first, second, strict=True)]))
    status = "Passed" if score["challenger"] >= score["champion"] - tolerance else "Failed"
    return {"status": status, "details": {"rows": len(truth), "agreement": agreement,
                                          "champion_accuracy": score["champion"],
                                          "challenger_accuracy": score["challenger"], "tolerance": tolerance}}


def evidence_arguments(result: dict[str, Any]) -> list[str]:
    """``--status Passed|Failed`` (a check that could not run failed) and one ``--detail K=V`` per detail."""
    status = "Passed" if result.get("status") == "Passed" else "Failed"
    arguments = ["--status", status]
    for key, value in sorted((result.get("details") or {}).items()):
        arguments += ["--detail", f"{key}={str(value).replace(' ', '_')}"]
    return arguments


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["evidence"]:
        if len(argv) != 2:
            print("usage: python -m PACKAGE.checks evidence RESULT.json", file=sys.stderr)
            return 2
        with open(argv[1]) as stream:
            print(" ".join(evidence_arguments(json.loads(stream.read() or "{}"))))
        return 0
    parser = argparse.ArgumentParser(prog=f"python -m {__package__}.checks", description=__doc__.split("\n")[0])
    parser.add_argument("check", choices=["wait", "integration", "load", "shadow"])
    parser.add_argument("--url", required=True, help="The greenfleet server.")
    parser.add_argument("--endpoint", help="The endpoint checked (wait, integration, load).")
    parser.add_argument("--group", help="wait: the model package group.")
    parser.add_argument("--version", type=int, help="wait: the version the endpoint must serve.")
    parser.add_argument("--timeout", type=float, default=600.0, help="wait: seconds.")
    parser.add_argument("--requests", type=int, default=200, help="load: requests sent.")
    parser.add_argument("--p95-ms", type=float, default=250.0, help="load: the p95 latency budget.")
    parser.add_argument("--champion", help="shadow: the champion's endpoint.")
    parser.add_argument("--challenger", help="shadow: the challenger's endpoint.")
    parser.add_argument("--tolerance", type=float, default=0.0, help="shadow: accuracy the challenger may lose.")
    args = parser.parse_args(argv)
    needed = {"wait": ("endpoint", "group", "version"), "integration": ("endpoint",), "load": ("endpoint",),
              "shadow": ("champion", "challenger")}[args.check]
    missing = [f"--{name}" for name in needed if getattr(args, name) is None]
    if missing:
        parser.error(f"{args.check} needs {', '.join(missing)}")
    from greenfleet.client import ApiError, ClientError

    try:
        with _client(args.url) as client:
            if args.check == "wait":
                result = wait(client, args.group, args.version, args.endpoint, args.timeout)
            elif args.check == "integration":
                result = integration(client, args.endpoint)
            elif args.check == "load":
                result = load_check(client, args.endpoint, args.requests, args.p95_ms)
            else:
                result = shadow(client, args.champion, args.challenger, args.tolerance)
    except (ApiError, ClientError) as exc:
        print(json.dumps({"check": args.check, "status": "Error", "details": {"error": str(exc)}}))
        return 2
    print(json.dumps({"check": args.check, **result}))
    return 0 if result["status"] == "Passed" else 1


if __name__ == "__main__":
    sys.exit(main())
