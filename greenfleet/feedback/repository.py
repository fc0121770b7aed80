"""SQL of the feedback API and A/B tests: assignments written in batches, outcomes inserted once per
(endpoint, inference id), per-variant aggregates computed in SQL, A/B tests with compare-and-set."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, case, delete, func, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError

from greenfleet.errors import ConflictError, ResourceInUse
from greenfleet.feedback.tables import ab_tests, feedback_outcomes, inference_assignments
from greenfleet.router.assignments import Assignment

Row = dict[str, Any]
LOOKUP_CHUNK = 500


class FeedbackRepository:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- assignments -------------------------------------------------------------------------------
    def add_assignments(self, records: Sequence[Assignment]) -> None:
        """Insert the records not stored yet (an inference id reused on an endpoint keeps its first answer)."""
        if not records:
            return
        unique = {(r.endpoint, r.inference_id): r for r in reversed(records)}
        known = self._existing(inference_assignments, list(unique))
        rows = [{"endpoint_name": r.endpoint, "inference_id": r.inference_id, "variant_name": r.variant,
                 "prediction": r.prediction, "at": r.at} for key, r in unique.items() if key not in known]
        if rows:
            with self.engine.begin() as tx:
                tx.execute(insert(inference_assignments), rows)

    def _existing(self, table: Any, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        with self.engine.connect() as conn:
            for start in range(0, len(keys), LOOKUP_CHUNK):
                chunk = keys[start:start + LOOKUP_CHUNK]
                found.update((r[0], r[1]) for r in conn.execute(select(table.c.endpoint_name, table.c.inference_id)
                             .where(tuple_(table.c.endpoint_name, table.c.inference_id).in_(chunk))))
        return found

    def assignments(self, endpoint: str, ids: Iterable[str]) -> dict[str, Row]:
        c = inference_assignments.c
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Row] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                rows = conn.execute(select(inference_assignments).where(
                    c.endpoint_name == endpoint, c.inference_id.in_(wanted[start:start + LOOKUP_CHUNK]))).mappings()
                found.update((r["inference_id"], dict(r)) for r in rows)
        return found

    def prune(self, before: float) -> None:
        with self.engine.begin() as tx:
            tx.execute(delete(inference_assignments).where(inference_assignments.c.at < before))
            tx.execute(delete(feedback_outcomes).where(feedback_outcomes.c.recorded_at < before))

    # --- outcomes ----------------------------------------------------------------------------------
    def outcomes(self, endpoint: str, ids: Iterable[str]) -> dict[str, Row]:
        c = feedback_outcomes.c
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Row] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), LOOKUP_CHUNK):
                rows = conn.execute(select(feedback_outcomes).where(
                    c.endpoint_name == endpoint, c.inference_id.in_(wanted[start:start + LOOKUP_CHUNK]))).mappings()
                found.update((r["inference_id"], dict(r)) for r in rows)
        return found

    def add_outcomes(self, rows: list[Row]) -> None:
        if rows:
            with self.engine.begin() as tx:
                tx.execute(insert(feedback_outcomes), rows)

    def variant_stats(self, endpoint: str, since: float) -> dict[str, Row]:
        """Per variant: outcomes, the sum and sum of squares of rewards, labelled outcomes and correct ones."""
        c = feedback_outcomes.c
        query = select(c.variant_name, func.count(c.reward), func.coalesce(func.sum(c.reward), 0.0),
                       func.coalesce(func.sum(c.reward * c.reward), 0.0), func.count(c.correct),
                       func.coalesce(func.sum(case((c.correct == 1, 1), else_=0)), 0)).where(
            c.endpoint_name == endpoint, c.recorded_at >= since).group_by(c.variant_name)
        with self.engine.connect() as conn:
            return {r[0]: {"rewards": int(r[1]), "sum": float(r[2]), "squares": float(r[3]), "labelled": int(r[4]),
                           "correct": int(r[5])} for r in conn.execute(query)}

    # --- A/B tests ---------------------------------------------------------------------------------
    def insert_test(self, row: Row) -> None:
        try:
            with self.engine.begin() as tx:
                tx.execute(insert(ab_tests).values(**row, revision=1))
        except IntegrityError as exc:
            raise ResourceInUse(f"A/B test {row['name']} already exists") from exc

    def get_test(self, name: str) -> Row | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(ab_tests).where(ab_tests.c.name == name)).mappings().first()
        return dict(found) if found else None

    def tests(self) -> list[Row]:
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(ab_tests)).mappings()]

    def save_test(self, name: str, expected_revision: int, changes: Mapping[str, Any]) -> None:
        c = ab_tests.c
        with self.engine.begin() as tx:
            result = tx.execute(update(ab_tests).where(c.name == name, c.revision == expected_revision).values(
                **changes, revision=expected_revision + 1))
            if result.rowcount != 1:
                raise ConflictError(f"A/B test {name} changed concurrently; retry")

    def delete_test(self, name: str) -> None:
        with self.engine.begin() as tx:
            tx.execute(delete(ab_tests).where(ab_tests.c.name == name))
