"""The old schedule is replayed by each vendor's own rules: handoffs stay at the same local time across a DST
change (so the turn spanning it is 23 h), restrictions are local windows, and the imported Firewatch rotation
hands off at exactly the same instants."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import yaml

from bot.config import parse_config
from bot.importers import service
from bot.importers.expand import expand_layer, expand_schedule, handoffs
from bot.rotations.domain.timeline import ShiftGrid

FIXTURES = Path(__file__).parent / "fixtures"
UTC = timezone.utc


def _layer(vendor: str, case: str, name: str):
    export = service.read_export(vendor, FIXTURES / case)
    schedule = export.schedules[0]
    return export, schedule, next(layer for layer in schedule.layers if layer.name == name)


def _hours(intervals):
    return [(e - s).total_seconds() / 3600 for _, s, e in intervals]


def _firewatch_handoffs(vendor, case, rotation, start, end):
    outcome = service.import_export(service.read_export(vendor, FIXTURES / case),
                                    service.read_users_csv(FIXTURES / "users.csv"), today=date(2027, 3, 1))
    config = parse_config(yaml.safe_load(outcome.text))
    grid = ShiftGrid(config.rotation(rotation))
    return [s.start for s in grid.slots(start, end)]


def test_pagerduty_daily_layer_keeps_0900_new_york_across_us_spring_forward():
    _, _, layer = _layer("pagerduty", "pagerduty_layers", "Layer 1")
    start, end = datetime(2027, 3, 12, 14, tzinfo=UTC), datetime(2027, 3, 16, 13, tzinfo=UTC)
    turns = expand_layer(layer, start, end)
    assert handoffs(turns, "America/New_York") == ["2027-03-12 09:00", "2027-03-13 09:00", "2027-03-14 09:00",
                                                   "2027-03-15 09:00"]
    assert [s for _, s, _ in turns] == [datetime(2027, 3, 12, 14, tzinfo=UTC), datetime(2027, 3, 13, 14, tzinfo=UTC),
                                        datetime(2027, 3, 14, 13, tzinfo=UTC), datetime(2027, 3, 15, 13, tzinfo=UTC)]
    assert _hours(turns) == [24, 23, 24, 24]
    # Users take turns in list order from rotation_virtual_start: 2026-11-02 is turn 0 (Earline), so
    # 2027-03-12, 130 days later, is turn 130 and 130 % 3 = 1 (Kyler).
    assert [u for u, _, _ in turns] == ["PAM4FGS", "PT23IWX", "PXPGF42", "PAM4FGS"]
    fw = _firewatch_handoffs("pagerduty", "pagerduty_layers", "daily-engineering-rotation-layer-1", start, end)
    assert fw == [s for _, s, _ in turns]


def test_pagerduty_restriction_is_a_local_window_across_dst():
    _, _, layer = _layer("pagerduty", "pagerduty_layers", "Night Shift")
    turns = expand_layer(layer, datetime(2027, 3, 13, 0, tzinfo=UTC), datetime(2027, 3, 16, 0, tzinfo=UTC))
    # 20:00-05:00 New York each night: 01:00Z before the change, 00:00Z after; the night of the change is 8 h.
    assert handoffs(turns, "America/New_York") == ["2027-03-12 20:00", "2027-03-13 20:00", "2027-03-14 20:00"]
    nights = [(s, e) for _, s, e in turns]
    assert nights[1:] == [(datetime(2027, 3, 14, 1, tzinfo=UTC), datetime(2027, 3, 14, 9, tzinfo=UTC)),
                          (datetime(2027, 3, 15, 0, tzinfo=UTC), datetime(2027, 3, 15, 9, tzinfo=UTC))]


def test_opsgenie_weekly_rotation_keeps_monday_0900_new_york():
    _, _, layer = _layer("opsgenie", "opsgenie_escalations", "Weekly")
    turns = expand_layer(layer, datetime(2027, 3, 8, 14, tzinfo=UTC), datetime(2027, 3, 22, 13, tzinfo=UTC))
    assert handoffs(turns, "America/New_York") == ["2027-03-08 09:00", "2027-03-15 09:00"]
    assert _hours(turns) == [7 * 24 - 1, 7 * 24]
    fw = _firewatch_handoffs("opsgenie", "opsgenie_escalations", "platform-on-call",
                             datetime(2027, 3, 8, 14, tzinfo=UTC), datetime(2027, 3, 22, 13, tzinfo=UTC))
    assert fw == [s for _, s, _ in turns]


def test_opsgenie_daily_rotation_keeps_0900_berlin_across_eu_spring_forward():
    _, _, layer = _layer("opsgenie", "opsgenie_rotations", "First Rotation")
    # Restricted to one span, Monday 09:00 to Friday 18:00 (Opsgenie's weekday-and-time-of-day): on call until
    # Friday 18:00 CET (17:00Z), nobody over the weekend, again from Monday 09:00 CEST (07:00Z, not 08:00Z).
    turns = expand_layer(layer, datetime(2027, 3, 26, 0, tzinfo=UTC), datetime(2027, 3, 31, 0, tzinfo=UTC))
    # The daily handoff at 09:00 Berlin (08:00Z before the change, 07:00Z after) cuts the span into turns.
    assert [(s, e) for _, s, e in turns[:3]] == [
        (datetime(2027, 3, 26, 0, tzinfo=UTC), datetime(2027, 3, 26, 8, tzinfo=UTC)),
        (datetime(2027, 3, 26, 8, tzinfo=UTC), datetime(2027, 3, 26, 17, tzinfo=UTC)),
        (datetime(2027, 3, 29, 7, tzinfo=UTC), datetime(2027, 3, 30, 7, tzinfo=UTC)),
    ]
    assert handoffs(turns[2:], "Europe/Berlin") == ["2027-03-29 09:00", "2027-03-30 09:00"]


def test_grafana_daily_rolling_users_keep_0900_london_across_bst():
    _, schedule, layer = _layer("grafana-oncall", "grafana_layers", "Demo rolling users (24/7, daily)")
    turns = expand_layer(layer, datetime(2027, 3, 27, 9, tzinfo=UTC), datetime(2027, 3, 30, 8, tzinfo=UTC))
    assert handoffs(turns, "Europe/London") == ["2027-03-27 09:00", "2027-03-28 09:00", "2027-03-29 09:00"]
    assert _hours(turns) == [23, 24, 24]  # the last one is cut at the window's end
    fw = _firewatch_handoffs("grafana-oncall", "grafana_layers", "demo-schedule-web-demo-rolling-users-24",
                             datetime(2027, 3, 27, 9, tzinfo=UTC), datetime(2027, 3, 30, 8, tzinfo=UTC))
    assert fw == [s for _, s, _ in turns]


def test_grafana_final_schedule_levels_and_override():
    _, schedule, _ = _layer("grafana-oncall", "grafana_layers", "Demo rolling users (24/7, daily)")
    final = expand_schedule(schedule, datetime(2027, 3, 22, 0, tzinfo=UTC), datetime(2027, 3, 30, 0, tzinfo=UTC))

    def who(at):
        return next(u for u, s, e in final if s <= at < e)

    # Level 1 (weekdays 09:00-18:00, groups (Alex), (Chris) weekly) beats level 0 (daily Alex, Bea, Chris, Dana);
    # 2027-03-22 is 20 weeks and 140 days after the shifts' start.
    assert who(datetime(2027, 3, 23, 12, tzinfo=UTC)) == "U4DNY931HHJS5"  # Tuesday noon: level 1, week 20
    assert who(datetime(2027, 3, 23, 23, tzinfo=UTC)) == "U5DNY931HHJS5"  # Tuesday night: level 0, day 141
    # The override (27th 09:00 London for 48 h of wall clock) beats both, and ends at 09:00 BST = 08:00Z.
    assert who(datetime(2027, 3, 28, 12, tzinfo=UTC)) == "U5DNY931HHJS5"
    assert who(datetime(2027, 3, 29, 7, 59, tzinfo=UTC)) == "U5DNY931HHJS5"
    assert who(datetime(2027, 3, 29, 8, 30, tzinfo=UTC)) == "U6DNY931HHJS5"  # Monday 09:30 BST: level 1, week 21
    # No gaps: the 24/7 layer underneath covers every instant.
    assert all(a[2] == b[1] for a, b in zip(final, final[1:]))
