"""Fail any test during which a strict fake Slack refused a call.

Enable for the whole suite with one line in tests/conftest.py:

    from bot.devtools.slack_violations_fixture import no_slack_violations  # noqa: F401
"""

from __future__ import annotations

import pytest

from bot.devtools.fake_slack import ALL_VIOLATIONS


@pytest.fixture(autouse=True)
def no_slack_violations():
    """After the test, fail it if any fake Slack recorded a call Slack would refuse."""
    start = len(ALL_VIOLATIONS)
    yield
    new = ALL_VIOLATIONS[start:]
    if new:
        pytest.fail("the fake Slack refused calls Slack would refuse:\n" + "\n".join(f"  {v}" for v in new),
                    pytrace=False)
