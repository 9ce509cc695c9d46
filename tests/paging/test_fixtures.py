"""The fixture copies must stay identical to the shared reference payloads they were copied from."""

from __future__ import annotations

import pytest

from tests.paging.payloads import FIXTURES, SHARED

COPIED = sorted(p.name for p in FIXTURES.iterdir() if p.name != "README.md")


def test_fixture_set_is_complete():
    json_files = [n for n in COPIED if n.endswith(".json")]
    assert len(json_files) == 8
    for name in json_files:
        assert f"{name}.source.txt" in COPIED, f"{name} has no provenance note"


@pytest.mark.parametrize("name", COPIED)
def test_copy_matches_shared_reference(name):
    # Fail loudly rather than skip: CI lays shared/ beside the repo, so its absence is a setup bug.
    assert SHARED.is_dir(), f"reference payloads not found at {SHARED} (expected ../shared/reference-payloads)"
    original = SHARED / name
    assert original.is_file(), f"{name} is not in {SHARED}"
    assert (FIXTURES / name).read_bytes() == original.read_bytes(), f"{name} differs from {original}"
