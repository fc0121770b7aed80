"""``python -m greenfleet.workers``: run one model-serving worker process.

The cyclic garbage collector is off while the worker starts: importing NumPy, SciPy and scikit-learn
creates ~100k long-lived objects, and collecting over and over while they pile up costs ~15% of the
start-up (~0.15-0.2 s of CPU). Reference counting still frees everything that is not in a cycle.
``main`` turns the collector back on once the model is loaded (before, for user code).
"""

import gc

gc.disable()

from greenfleet.workers.process import main  # noqa: E402

raise SystemExit(main())
