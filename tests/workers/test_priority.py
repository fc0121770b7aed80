"""A shadow's worker lowers its own CPU priority at start: niceness, and SCHED_IDLE when asked."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from greenfleet.instances.contract import NICENESS_VARIABLE, SCHEDULING_VARIABLE, priority_environment
from greenfleet.workers.process import lower_priority


def _run(program: str) -> dict[str, object]:
    """What a fresh interpreter running ``program`` printed as JSON on its last line."""
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    seen: dict[str, object] = json.loads(done.stdout)
    return seen


def test_the_backends_hand_over_only_what_lowers_the_priority() -> None:
    assert priority_environment(0, "normal") == {}
    assert priority_environment(10, "normal") == {NICENESS_VARIABLE: "10"}
    assert priority_environment(10, "idle") == {NICENESS_VARIABLE: "10", SCHEDULING_VARIABLE: "idle"}


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux-only")
def test_the_worker_sets_sched_idle_and_its_niceness_on_itself_and_a_thread_it_starts_inherits_them() -> None:
    program = (
        "import json, os, threading\n"
        "from greenfleet.workers.process import lower_priority\n"
        "failure = lower_priority('5', 'idle')\n"
        "seen = {}\n"
        "def look():\n"
        "    seen['thread'] = os.sched_getscheduler(threading.get_native_id())\n"
        "thread = threading.Thread(target=look); thread.start(); thread.join()\n"
        "print(json.dumps({'failure': failure, 'policy': os.sched_getscheduler(0), 'thread': seen['thread'],"
        " 'nice': os.getpriority(os.PRIO_PROCESS, 0)}))\n")
    seen = _run(program)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert seen == {"failure": None, "policy": os.SCHED_IDLE, "thread": os.SCHED_IDLE, "nice": min(own + 5, 19)}


def test_an_unknown_scheduling_is_a_startup_failure_with_the_reason() -> None:
    assert lower_priority(None, "realtime") == "unknown scheduling 'realtime' (expected normal or idle)"
    assert lower_priority(None, "normal") is None and lower_priority(None, None) is None


@pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="SCHED_IDLE is Linux-only")
def test_a_thread_started_before_the_worker_lowers_its_priority_is_lowered_too() -> None:
    """Imports may start threads (a BLAS pool) before ``main`` runs: they must not keep production's priority."""
    program = (
        "import json, os, threading\n"
        "from greenfleet.workers.process import lower_priority\n"
        "started, release = threading.Event(), threading.Event()\n"
        "ids = {}\n"
        "def early():\n"
        "    ids['early'] = threading.get_native_id(); started.set(); release.wait()\n"
        "thread = threading.Thread(target=early); thread.start(); started.wait()\n"
        "failure = lower_priority('5', 'idle')\n"
        "tid = ids['early']\n"
        "print(json.dumps({'failure': failure, 'policy': os.sched_getscheduler(tid),"
        " 'nice': os.getpriority(os.PRIO_PROCESS, tid), 'main_nice': os.getpriority(os.PRIO_PROCESS, 0)}))\n"
        "release.set(); thread.join()\n")
    seen = _run(program)
    own = os.getpriority(os.PRIO_PROCESS, 0)
    assert seen == {"failure": None, "policy": os.SCHED_IDLE, "nice": min(own + 5, 19), "main_nice": min(own + 5, 19)}
