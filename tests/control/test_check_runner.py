"""The check runner runs each check once and forgets a deployment's results when it is over."""

from __future__ import annotations

import time

from greenfleet.control.check_runner import CheckRunner
from greenfleet.rollout.actions import RunCheck
from greenfleet.rollout.observations import CheckStatus
from tests.live.test_rollout_extensions_live import webhook


def _check(check_id: str, url: str) -> RunCheck:
    return RunCheck(check_id=check_id, name=check_id.split("/")[1], point="PRE_TRAFFIC", url=url, load_test=None,
                    timeout_s=2.0, retries=0, fleet_id="2")


def test_results_of_a_finished_deployment_are_forgotten() -> None:
    hook, received = webhook(200)
    url = f"http://127.0.0.1:{hook.server_address[1]}/check"
    runner = CheckRunner()
    try:
        for check_id in ("d1/a", "d1/b/0", "d2/a"):
            runner.start(_check(check_id, url), [])
        runner.start(_check("d1/a", url), [])  # a repeated RunCheck is not run again
        deadline = time.monotonic() + 10
        while any(r.status is CheckStatus.PENDING for r in runner.results.values()):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert len(received) == 3
        runner.forget("d1")
        assert list(runner.results) == ["d2/a"]
    finally:
        runner.close()
        hook.shutdown()
