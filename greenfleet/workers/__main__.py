"""``python -m greenfleet.workers``: run one model-serving worker process."""

from greenfleet.workers.process import main

raise SystemExit(main())
