"""A scikit-learn instance whose model does not need pandas does not import it (memory, start-up);
one whose pickle references pandas still gets it. rich (scikit-learn's fit progress bars) is kept out
while the model loads, and importable afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

PROBE = """
import sys
from pathlib import Path
from greenfleet.workers.runtimes.sklearn import load_estimator
model = load_estimator(Path(sys.argv[1]))
import numpy as np
try:
    model.predict(np.zeros((1, 3)))
except ValueError as exc:
    print("ValueError", "features" in str(exc))
print("pandas" in sys.modules)
"""


def run(model_dir: Path) -> list[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, str(model_dir)], capture_output=True, text=True, check=True)
    return out.stdout.split()


def test_pandas_stays_out_unless_the_model_references_it(tmp_path: Path) -> None:
    x, y = np.random.default_rng(0).normal(size=(50, 4)), np.arange(50) % 2
    plain = tmp_path / "plain"
    plain.mkdir()
    joblib.dump(LogisticRegression().fit(x, y), plain / "model.joblib")
    assert run(plain) == ["ValueError", "True", "False"]  # sklearn's own errors still work without pandas

    framed = tmp_path / "framed"
    framed.mkdir()
    fitted = LogisticRegression().fit(pd.DataFrame(x, columns=list("abcd")), y)
    fitted.reference_frame = pd.DataFrame(x[:2], columns=list("abcd"))  # a pickle that needs pandas
    joblib.dump(fitted, framed / "model.joblib")
    assert run(framed)[-1] == "True"


RICH_PROBE = """
import sys
from pathlib import Path
from greenfleet.workers.runtimes.sklearn import load_estimator
model = load_estimator(Path(sys.argv[1]))
print("rich" in sys.modules, "sklearn" in sys.modules)
import rich.progress
print("rich" in sys.modules)
"""


def test_rich_stays_out_while_loading_and_can_be_imported_after(tmp_path: Path) -> None:
    x, y = np.random.default_rng(0).normal(size=(50, 4)), np.arange(50) % 2
    joblib.dump(LogisticRegression().fit(x, y), tmp_path / "model.joblib")
    out = subprocess.run([sys.executable, "-c", RICH_PROBE, str(tmp_path)], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "True"]
