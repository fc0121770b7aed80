"""greenfleet's MLOps example, end to end, on two real servers (dev and prod) that it starts on 127.0.0.1:

    python examples/mlops/run.py --workdir /tmp/mlops [--keep-running]

v1 is trained, registered and auto-approved in dev, deployed there, promoted to prod, approved and rolled out
through a judged canary under load; a worse v2 goes through a shadow test in prod and is rejected; a faulty v3
is approved and its canary rolls back on its own; drift monitoring catches a shifted input stream. The story is
told in ``WORKDIR/report.md`` (and ``report.json``); prod's dashboard shows it as a timeline. Exit status 0 when
every step turned out as expected, 1 otherwise."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from environments import ENDPOINT, GROUP, set_up, start_monitoring
from models import load_dataset, train
from report import write_markdown
from servers import ServerProcess
from steps import Record
from story import Story
from traffic import Traffic

from greenfleet import Client

DRIFT_SHIFT = 10.0
"""Added to every request's mean radius (feature 0; mean 14, sd 3.5) once the input stream drifts."""


def tell(story: Story, record: Record) -> None:
    data = story.data
    models = {v: train(data, v, story.workdir / "models") for v in ("v1", "v2", "v3")}
    m1, m2, m3 = models["v1"], models["v2"], models["v3"]

    story.register_in_dev(m1, 1)
    story.deployed_in_dev(m1, 1)
    story.checks_in_dev(m1, 1)
    prod_v1 = story.promote_to_prod(m1, 1)
    story.approve_in_prod(m1, prod_v1, "release review: evaluation and dev checks passed")
    story.canary(m1, prod_v1, "SUCCEEDED")

    story.register_in_dev(m2, 2)
    story.deployed_in_dev(m2, 2)
    story.checks_in_dev(m2, 2)
    prod_v2 = story.promote_to_prod(m2, 2)
    shadow = story.shadow_test(m2, prod_v2, seconds=8)
    story.reject_in_prod(m2, prod_v2, shadow)

    story.register_in_dev(m3, 3)
    story.deployed_in_dev(m3, 3)
    story.checks_in_dev(m3, 3)
    prod_v3 = story.promote_to_prod(m3, 3)
    story.approve_in_prod(m3, prod_v3, "release review: same estimator as v1, new serving code")
    story.canary(m3, prod_v3, "ROLLED_BACK")

    story.drift(DRIFT_SHIFT, timeout_s=60)

    binding = story.prod.describe_registry_binding(EndpointName=ENDPOINT["prod"])
    served = story.prod.served_at(EndpointName=ENDPOINT["prod"], At=time.time())["Variants"][0]
    record.step("prod at the end", "prod", f"{GROUP}/{binding['Champion']} live", f"{GROUP}/{prod_v1} live",
                "the last version that passed every guardrail", champion=binding["Champion"],
                approved_by=(served.get("Approval") or {}).get("By"),
                endpoint_config=story.prod.describe_endpoint(EndpointName=ENDPOINT["prod"])["EndpointConfigName"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, required=True, help="where the servers, models and report go "
                        "(created; must be empty or missing)")
    parser.add_argument("--keep-running", action="store_true", help="leave both servers up at the end (Ctrl-C stops "
                        "them) to look at the dashboards")
    args = parser.parse_args(argv)
    workdir: Path = args.workdir.resolve()
    if workdir.exists() and any(workdir.iterdir()):
        parser.error(f"--workdir {workdir} is not empty")
    workdir.mkdir(parents=True, exist_ok=True)

    record = Record()
    data = load_dataset()
    v0 = train(data, "v0", workdir / "models")
    dev = ServerProcess("dev", workdir)
    prod = ServerProcess("prod", workdir, {"REJECT_ON_ROLLBACK": "true",
                                           "REGISTRY_REQUIRED_EVIDENCE": "integration,load"})
    traffic: Traffic | None = None
    timeline_url = f"{prod.url}/ui/timeline/{GROUP}"
    try:
        for server in (dev, prod):
            server.start()
        for server in (dev, prod):
            server.wait_ready()
        dev_client, prod_client = Client(dev.url, timeout=60), Client(prod.url, timeout=60)
        record.setup = {"DevUrl": dev.url, "ProdUrl": prod.url, "Workdir": str(workdir),
                        **set_up(dev_client, prod_client, v0.archive, data.x_train, workdir)}
        print(f"dev {dev.url}, prod {prod.url}; dashboard {prod.url}/ui, timeline {timeline_url}", flush=True)
        traffic = Traffic(prod.url, ENDPOINT["prod"], data.x)
        traffic.start()
        time.sleep(1.5)
        start_monitoring(prod_client, workdir)
        story = Story(dev_client, prod_client, dev.url, prod.url, data, workdir, record, traffic)
        tell(story, record)
    except Exception as exc:  # the report says where the story stopped
        record.error = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    finally:
        if traffic is not None:
            traffic.stop()
        try:
            page = httpx.get(timeline_url, timeout=30)
            if page.status_code == 200:
                (workdir / "timeline.html").write_text(page.text)
        except httpx.HTTPError:
            pass
        record.write_json(workdir / "report.json")
        import json

        write_markdown(json.loads((workdir / "report.json").read_text()), workdir / "report.md",
                       timeline_url if (workdir / "timeline.html").exists() else None)
        print(f"report: {workdir / 'report.md'}", flush=True)
        if args.keep_running and record.error is None:
            print("servers left running; Ctrl-C stops them", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        for server in (prod, dev):
            server.stop()
    ok = record.error is None and all(step.as_expected for step in record.steps)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
