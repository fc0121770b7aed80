"""Where the "server + one scikit-learn instance ≤ 200 MB RSS idle" target stands against library floors.

    .venv/bin/python bench/memory_floor.py [--model /tmp/peers/data/model.pkl]

Each row is a fresh interpreter of this venv that only imports libraries (and, for the worker rows,
loads the benchmark's LogisticRegression and predicts one row), then reports its VmRSS. The first rows
are the libraries the server needs before any greenfleet code runs: the store the issue asks for
(SQLAlchemy 2), an OpenAPI-documented REST API (FastAPI), the ASGI server both processes use
(uvicorn with uvloop and httptools) and the settings (pydantic-settings). The worker rows are the least
any process that imports scikit-learn to serve the model holds (NumPy, SciPy and scikit-learn, pandas
and rich kept out as greenfleet's worker does): with such a worker the libraries alone leave ~10 MB for
all of greenfleet's server code and data, which is why greenfleet's worker reads linear models without
importing scikit-learn (greenfleet/workers/runtimes/lean.py). Then greenfleet's real processes, started
as the benchmark starts them. Prints a table and writes bench/results/memory-floor.json.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results" / "memory-floor.json"
TARGET_MB = 200.0

PROBE = """
import sys
class _Absent:
    def find_spec(self, name, *args):
        if name.split('.')[0] in {blocked!r}:
            raise ModuleNotFoundError(name)
sys.meta_path.insert(0, _Absent())
{code}
for line in open('/proc/self/status'):
    if line.startswith('VmRSS:'):
        print(int(line.split()[1]) / 1024)
"""

SERVER_LIBS = ("import sqlalchemy.orm, fastapi, pydantic_settings, uvicorn, uvicorn.loops.uvloop, "
               "uvicorn.protocols.http.httptools_impl")
WORKER_LIBS = ("import pickle, numpy, sklearn.linear_model, uvicorn, uvicorn.loops.uvloop, "
               "uvicorn.protocols.http.httptools_impl\n"
               "model = pickle.load(open({model!r}, 'rb')); model.predict(numpy.zeros((1, model.n_features_in_)))")


def probe(code: str, blocked: tuple[str, ...] = ()) -> float:
    done = subprocess.run([sys.executable, "-c", PROBE.format(code=code, blocked=set(blocked))],
                          capture_output=True, text=True, timeout=120, check=True)
    return float(done.stdout.split()[-1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def greenfleet_processes(model: str, idle_s: float) -> dict[str, float]:
    """`greenfleet server` plus one endpoint on ``model``, through the benchmark's own launcher."""
    from urllib.request import Request, urlopen

    port = 8655
    with tempfile.TemporaryDirectory() as tmp:
        status = Path(tmp) / "status.json"
        launcher = subprocess.Popen([sys.executable, str(Path(__file__).parent / "greenfleet_router.py"), "--port",
                                     str(port), "--model", model, "--status", str(status)],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.time() + 120
            while time.time() < deadline:
                try:
                    body = json.dumps({"inputs": [[0.0] * 20]}).encode()
                    request = Request(f"http://127.0.0.1:{port}/endpoints/bench/invocations", data=body,
                                      headers={"Content-Type": "application/json"})
                    if urlopen(request, timeout=2).status == 200:
                        break
                except OSError:
                    time.sleep(0.1)
            time.sleep(idle_s)
            tasks = Path(f"/proc/{launcher.pid}/task").iterdir()  # workers are started from the reconciler's thread
            children = {int(pid) for task in tasks for pid in (task / "children").read_text().split()}
            if len(children) != 1:
                raise RuntimeError(f"expected one worker process, found {sorted(children)}")
            return {"server": _rss_mb(launcher.pid), "worker": sum(_rss_mb(pid) for pid in children)}
        finally:
            launcher.send_signal(2)
            launcher.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--model", default=os.environ.get("GF_BENCH_MODEL", "/tmp/peers/data/model.pkl"),
                        help="the pickled LogisticRegression (default: the peers' model.pkl)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before reading greenfleet's RSS")
    args = parser.parse_args()
    if not Path(args.model).exists():
        from sklearn.datasets import make_classification
        from sklearn.linear_model import LogisticRegression

        X, y = make_classification(n_samples=1000, n_features=20, random_state=0)
        Path(args.model).parent.mkdir(parents=True, exist_ok=True)
        Path(args.model).write_bytes(pickle.dumps(LogisticRegression(max_iter=1000).fit(X, y)))
    rows: list[tuple[str, float]] = [
        ("python, nothing imported", probe("pass")),
        ("server floor: sqlalchemy.orm + fastapi + pydantic-settings + uvicorn", probe(SERVER_LIBS)),
        ("worker floor: numpy + scikit-learn + uvicorn, model loaded (pandas, rich kept out)",
         probe(WORKER_LIBS.format(model=args.model), blocked=("pandas", "rich"))),
    ]
    floor = rows[1][1] + rows[2][1]
    rows.append(("sum of the two floors (no greenfleet code at all)", floor))
    real = greenfleet_processes(args.model, args.idle)
    rows += [("greenfleet server, idle, one endpoint", real["server"]),
             ("greenfleet worker (scikit-learn), idle", real["worker"]),
             ("greenfleet server + worker", real["server"] + real["worker"])]
    width = max(len(name) for name, _ in rows)
    print(f"{'process':{width}}  RSS MB")
    for name, mb in rows:
        print(f"{name:{width}}  {mb:6.1f}")
    print(f"target: server + one instance <= {TARGET_MB:.0f} MB; greenfleet: {real['server'] + real['worker']:.1f} MB; "
          f"with a worker importing scikit-learn the libraries alone would leave {TARGET_MB - floor:.1f} MB")
    result: dict[str, Any] = {"rss_mb": dict(rows), "target_mb": TARGET_MB, "headroom_mb": TARGET_MB - floor,
                              "python": sys.version.split()[0], "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
