"""Writing outputs to file:// locations, on real files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from greenfleet.asyncinference.locations import Locations


def test_two_writes_of_one_location_at_once_each_land_whole(tmp_path: Path) -> None:
    """Two requests may name the same output (a Filename given twice): the later one to finish wins, whole,
    and neither fails (each writes its own partial file before the rename)."""
    locations = Locations(None, [tmp_path])
    url = (tmp_path / "out" / "same.out").as_uri()

    def first() -> Iterator[bytes]:
        yield b"A" * 10
        locations.write(url, iter([b"B" * 5]), None)  # the second request writes while the first is mid-way
        yield b"A" * 10

    locations.write(url, first(), None)
    assert (tmp_path / "out" / "same.out").read_bytes() == b"A" * 20
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["same.out"]
