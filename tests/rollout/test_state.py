from __future__ import annotations

import pytest

import greenfleet.rollout as rollout
from greenfleet.rollout import Phase

from .scenarios import SCENARIOS


def test_phases_are_a_closed_stored_set() -> None:
    # Stored in the database: renaming or removing one is a migration.
    assert [p.value for p in Phase] == [
        "PROVISIONING",
        "BAKING",
        "TERMINATION_WAIT",
        "DRAINING",
        "ROLLING_BACK",
        "SUCCEEDED",
        "ROLLED_BACK",
        "ROLLBACK_FAILED",
        "CHECKING",  # GreenfleetRollout: added after the SageMaker set, which is unchanged
        "AWAITING_APPROVAL",
    ]


def test_evolve_rejects_unknown_fields() -> None:
    state, _, _ = SCENARIOS["default"].start()
    with pytest.raises(TypeError, match="no field"):
        state.evolve(phsae=Phase.BAKING)


def test_exported_members() -> None:
    assert rollout.__all__ == sorted(rollout.__all__)
    assert all(hasattr(rollout, name) for name in rollout.__all__)
