from __future__ import annotations

import greenfleet.judge as judge


def test_exported_members() -> None:
    assert judge.__all__ == sorted(judge.__all__)
    assert all(hasattr(judge, name) for name in judge.__all__)
