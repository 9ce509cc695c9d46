"""Rotation tests plan with the solver to its deterministic effort limit; that is seconds on an idle machine
and can be minutes on a loaded two-core one, so they get a longer timeout than the suite's default."""

from __future__ import annotations

import pytest

PLANNING_TIMEOUT_SECONDS = 900


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/rotations/" in str(item.path).replace("\\", "/") and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(PLANNING_TIMEOUT_SECONDS))
