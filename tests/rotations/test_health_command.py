"""`/oncall health [rotation] [period]`: the `firewatch report health` table as an ephemeral reply, and the PNG
chart uploaded (files upload v2) to the asker's DM. Through signed requests and the strict Slack stand-in."""

from __future__ import annotations

import struct
from datetime import date, datetime

from bot.rotations import service
from bot.rotations.domain.health import CHART_SIZE, parse_period
from bot.rotations.domain.timeline import to_aware
from tests.conftest import ALICE, BOB
from tests.rotations.helpers import CAROL, LONDON, dm_channel, oncall, start, text_of


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])  # IHDR width, height


def _this_quarter() -> str:
    today = datetime.now(LONDON).date()
    return f"{today.year}-Q{(today.month - 1) // 3 + 1}"


def test_health_reply_is_the_report_table_and_the_chart_goes_to_the_dm(harness_factory):
    h = start(harness_factory)
    period = _this_quarter()
    reply = oncall(h, "health", user=BOB)
    body = text_of(reply)
    assert f"payments, {period}" in body
    assert "name" in body and "night h" in body and "streak d" in body

    # Each person's shift count is the number of primary shifts starting in the period (rotation's zone).
    first, after = parse_period(period)
    plan = service.schedule(h.ctx, "payments", to_aware(first, LONDON), to_aware(after, LONDON))
    table = next(b["text"]["text"] for b in reply["blocks"] if b["text"]["text"].startswith("```"))
    rows = {line.split()[0]: line.split() for line in table.strip("`").splitlines()[2:]}
    for user, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        expected = sum(1 for s in plan.shifts if s.user == user and s.role == "primary"
                       and first <= s.start.astimezone(LONDON).date() < after)
        assert rows[name][1] == f"{expected}+0", (name, rows[name])
    assert "The chart is in your DMs" in body

    # The chart: a real PNG of the documented size, shared in Bob's DM only.
    uploads = [u for u in h.fake.uploads.values() if u["name"].startswith("oncall-health-payments")]
    assert len(uploads) == 1
    assert _png_size(uploads[0]["data"]) == CHART_SIZE
    assert uploads[0]["channels"] == [dm_channel(h, BOB)]


def test_health_with_a_period_and_a_wrong_one(harness_factory):
    h = start(harness_factory)
    today = date.today()
    month = f"{today.year}-{today.month:02d}"
    assert f"payments, {month}" in text_of(oncall(h, f"health payments {month}", user=ALICE))
    wrong = text_of(oncall(h, f"health payments {today.year}-13", user=ALICE))
    assert "is not a period" in wrong and "2027-Q1" in wrong
    usage = text_of(oncall(h, "health payments next-year", user=ALICE))
    assert "unexpected `next-year`" in usage


def test_health_never_claims_a_chart_it_could_not_send(harness_factory):
    h = start(harness_factory)
    h.fake.fail("files.getUploadURLExternal", error="ratelimited_forever", times=5)
    body = text_of(oncall(h, "health", user=BOB))
    assert "night h" in body  # the table still comes
    assert "could not be sent" in body and "in your DMs" not in body
    assert not [u for u in h.fake.uploads.values() if u["name"].startswith("oncall-health")]
