"""Benchmark of the model registry's listing (not a test): ListModelPackages over a group of 10,000
versions, one page of 100, through boto3 against a real server on loopback (goal: p50 ≤ 50 ms).

    .venv/bin/python bench/registry_bench.py              # ~1 min
    .venv/bin/python bench/registry_bench.py --versions 2000 --rounds 50

Versions are written straight into the store (the rows registration writes, with a realistic spec), so
that the setup does not copy 10,000 artifacts; listing then goes through the whole stack: boto3 → SigV4
request → AWS JSON 1.1 dispatch → validation → SQL page → response. Prints a table and writes
bench/results/registry.json. Use ``--database-url postgresql://postgres@127.0.0.1:5432/<db>`` for PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from greenfleet.registry.names import RegistryArns
from greenfleet.registry.tables import model_package_groups, model_packages
from greenfleet.server import Server
from greenfleet.settings import Settings

RESULTS = Path(__file__).parent / "results" / "registry.json"
GROUP = "bench"
T0 = 1_700_000_000.0


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fill(server: Server, versions: int) -> None:
    arns = RegistryArns(server.settings.region, server.settings.account_id)
    rows = []
    for n in range(1, versions + 1):
        approval = "Approved" if n % 3 == 0 else ("Rejected" if n % 7 == 0 else "PendingManualApproval")
        spec = {"InferenceSpecification": {"Containers": [{"Image": "greenfleet/sklearn",
                                                           "ModelDataUrl": f"s3://models/churn/{n}/model.tar.gz"}]},
                "MetadataProperties": {"CommitId": f"{n:040x}", "GeneratedBy": f"pipeline/run-{n}"},
                "CustomerMetadataProperties": {"dataset": f"s3://data/{n}", "lr": "0.1"},
                "GreenfleetArtifact": {"Sha256": f"{n:064x}", "Uri": f"/store/{n}.tar.gz", "Bytes": 1000,
                                       "SourceUri": f"s3://models/churn/{n}/model.tar.gz"}}
        rows.append({"arn": arns.version(GROUP, n), "group_name": GROUP, "version": n, "description": None,
                     "status": "Completed", "approval_status": approval, "registration_type": None,
                     "client_token": None, "created_at": T0 + n, "modified_at": T0 + n, "spec": spec})
    with server.engine.begin() as conn:
        conn.execute(model_package_groups.insert().values(
            name=GROUP, arn=arns.group(GROUP), description=None, status="Completed", created_at=T0,
            created_by="bench", next_version=versions + 1))
        for start in range(0, len(rows), 1000):
            conn.execute(model_packages.insert(), rows[start:start + 1000])


def timed(call: Callable[[], Any], rounds: int) -> dict[str, float]:
    call()  # warm-up
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": statistics.median(samples), "p90_ms": samples[int(0.9 * (len(samples) - 1))],
            "max_ms": samples[-1], "rounds": rounds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(home=Path(tmp) / "home", port=_free_port(), database_url=args.database_url)
        server = Server(settings)
        server.start_in_thread()
        try:
            fill(server, args.versions)
            sm = boto3.client("sagemaker", endpoint_url=settings.base_url, region_name=settings.region,
                              aws_access_key_id="bench", aws_secret_access_key="bench",
                              config=Config(retries={"max_attempts": 1}))
            first = sm.list_model_packages(ModelPackageGroupName=GROUP, MaxResults=100)
            assert len(first["ModelPackageSummaryList"]) == 100 and "NextToken" in first
            deep = {"NextToken": first["NextToken"]}
            for _ in range(args.versions // 100 - 2):
                deep["NextToken"] = sm.list_model_packages(ModelPackageGroupName=GROUP, MaxResults=100,
                                                           NextToken=deep["NextToken"])["NextToken"]
            cases = {
                "first page of 100 (newest first)": lambda: sm.list_model_packages(
                    ModelPackageGroupName=GROUP, MaxResults=100),
                "last page of 100 (NextToken)": lambda: sm.list_model_packages(
                    ModelPackageGroupName=GROUP, MaxResults=100, NextToken=deep["NextToken"]),
                "Approved only, page of 100": lambda: sm.list_model_packages(
                    ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved", MaxResults=100),
                "latest Approved (MaxResults=1)": lambda: sm.list_model_packages(
                    ModelPackageGroupName=GROUP, ModelApprovalStatus="Approved", SortBy="CreationTime",
                    SortOrder="Descending", MaxResults=1),
                "DescribeModelPackage": lambda: sm.describe_model_package(ModelPackageName=f"{GROUP}/5000"),
            }
            results = {name: timed(call, args.rounds) for name, call in cases.items()}
        finally:
            server.stop_thread()
    print(f"ListModelPackages over {args.versions:,} versions of one group, boto3 over loopback "
          f"({'SQLite' if not args.database_url else 'PostgreSQL'})")
    print(f"{'case':<36} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8}")
    for name, r in results.items():
        print(f"{name:<36} {r['p50_ms']:>8.2f} {r['p90_ms']:>8.2f} {r['max_ms']:>8.2f}")
    goal = results["first page of 100 (newest first)"]["p50_ms"]
    print(f"goal: p50 of one page of 100 <= 50 ms: {'met' if goal <= 50 else 'NOT met'} ({goal:.2f} ms)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "registry", "versions": args.versions, "results": results,
                                   "goal_p50_ms": 50, "goal_met": goal <= 50, "machine": platform.platform(),
                                   "python": platform.python_version(), "at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                                            time.gmtime())},
                                  indent=2) + "\n")


if __name__ == "__main__":
    main()
