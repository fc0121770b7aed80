"""The feedback API's labels as Model Monitor's ground truth, read from a real store (SQLite, PostgreSQL)."""

from __future__ import annotations

from greenfleet.feedback.ground_truth import feedback_labels
from greenfleet.feedback.repository import FeedbackRepository
from greenfleet.store.database import create_store_engine, migrate


def test_numeric_labels_of_the_asked_ids_are_given_to_model_quality(database_url: str) -> None:
    engine = create_store_engine(database_url)
    migrate(engine)
    repo = FeedbackRepository(engine)
    rows = [("shop", "a", "1", None), ("shop", "b", "0.25", None), ("shop", "c", "cat", None),
            ("shop", "d", None, 2.0), ("other", "a", "7", None), ("shop", "e", "nan", None)]
    repo.add_outcomes([{"endpoint_name": e, "inference_id": i, "variant_name": "v1", "label": label,
                        "reward": reward, "correct": None, "recorded_at": 1.0} for e, i, label, reward in rows])
    labels = feedback_labels(repo)
    # Only the asked ids of the asked endpoint; a label that is no number (or no label: a reward) is left out.
    assert labels("shop", ["a", "b", "c", "d", "e", "unknown"]) == {"a": 1.0, "b": 0.25}
    assert labels("other", ["a", "b"]) == {"a": 7.0}
    assert labels("shop", []) == {}
    engine.dispose()
