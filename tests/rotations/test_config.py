"""Validation messages of the `rotations:` section, as the user sees them through bot.config."""

from __future__ import annotations

import copy

import pytest

from bot.config import ConfigError, parse_config

BASE = {
    "rotations": [{
        "name": "payments",
        "timezone": "Europe/London",
        "shift": {"length": "1w", "handoff_time": "10:00", "handoff_day": "mon"},
        "channel": "C0PAYONCALL",
        "usergroup": "S0PAYONCALL",
        "secondary": True,
        "members": [
            {"user": "U0ANA", "name": "Ana", "timezone": "Europe/London", "country": "GB", "seniority": "senior"},
            {"user": "U0BEN", "name": "Ben", "timezone": "America/New_York", "country": "US", "seniority": "junior",
             "fte": 0.5, "joined": "2027-02-01"},
            {"user": "U0CAT", "name": "Cat", "country": "GB"},
            {"user": "U0DAN", "name": "Dan", "country": "GB"},
        ],
        "unavailability": [{"user": "U0ANA", "start": "2027-03-01", "end": "2027-03-08", "reason": "PTO"}],
        "rules": {"min_rest_shifts": 1, "night": "22:00-07:00",
                  "weights": {"base": 1.0, "night": 0.5, "weekend": 1.0, "holiday": 2.0},
                  "senior_in_every_pair": True},
    }]
}


def problems(mutate) -> list[str]:
    data = copy.deepcopy(BASE)
    mutate(data["rotations"][0])
    with pytest.raises(ConfigError) as info:
        parse_config(data)
    return info.value.problems


def test_example_from_the_issue_is_valid():
    config = parse_config(copy.deepcopy(BASE))
    rotation = config.rotations[0]
    assert (rotation.name, rotation.channel, rotation.usergroup, rotation.secondary, rotation.timezone) == (
        "payments", "C0PAYONCALL", "S0PAYONCALL", True, "Europe/London")
    assert rotation.members[1].fte == 0.5 and str(rotation.members[1].joined) == "2027-02-01"
    assert rotation.horizon_delta.days == 14


def test_unknown_user_in_unavailability():
    lines = problems(lambda r: r["unavailability"].append({"user": "U0XYZ", "start": "2027-04-01", "end": "2027-04-02"}))
    assert lines == ["rotations[0]: unavailability[1].user: U0XYZ is not a member of rotation 'payments'"]


def test_bad_time_zones():
    def mutate(r):
        r["timezone"] = "Europe/Londn"
        r["members"][0]["timezone"] = "Mars/Olympus"
    lines = problems(mutate)
    assert "rotations[0].timezone: 'Europe/Londn' is not a known IANA time zone (use a name like Europe/London or America/New_York)" in lines
    assert any(line.startswith("rotations[0].members[0].timezone: 'Mars/Olympus' is not a known IANA time zone") for line in lines)


def test_bad_shift_length():
    lines = problems(lambda r: r["shift"].update(length="3x", handoff_day=None))
    assert lines == ["rotations[0].shift.length: '3x' is not a valid shift length; use 12h, 8h, 1d, Nd (days) or Nw (weeks)"]
    lines = problems(lambda r: r["shift"].update(length="5h", handoff_day=None))
    assert "hour-based shifts must divide a day" in lines[0]


def test_handoff_day_with_non_weekly_shift():
    lines = problems(lambda r: r["shift"].update(length="1d"))
    assert lines == ["rotations[0].shift: handoff_day 'mon' only applies to weekly shifts (length 1w, 2w, 7d, ...); "
                     "this shift's length is 1d: remove handoff_day or use a weekly length"]


def test_empty_rotation():
    lines = problems(lambda r: r.update(members=[], unavailability=[]))
    assert lines == ["rotations[0].members: rotation 'payments' has no members; add at least one under members:"]


def test_duplicate_members():
    lines = problems(lambda r: r["members"].append({"user": "U0ANA"}))
    assert lines == ["rotations[0].members: duplicate members in rotation 'payments': U0ANA (list each person once)"]


def test_end_before_start():
    lines = problems(lambda r: r["unavailability"][0].update(start="2027-03-08", end="2027-03-01"))
    assert lines == ["rotations[0].unavailability[0]: end (2027-03-01) must be after start (2027-03-08); end is exclusive"]


def test_secondary_needs_two_members():
    def mutate(r):
        r["members"] = r["members"][:1]
        r["rules"].update(min_rest_shifts=0)
    assert "secondary: rotation 'payments' needs at least 2 members for a secondary (it has 1)" in problems(mutate)[0]


def test_senior_in_every_pair_without_seniors():
    lines = problems(lambda r: r["members"][0].update(seniority="mid"))
    assert lines == ["rotations[0]: rules.senior_in_every_pair: rotation 'payments' has no member with seniority: senior"]


def test_several_cross_field_problems_are_reported_one_per_line():
    def mutate(r):
        r["members"][0]["seniority"] = "mid"
        r["unavailability"][0]["user"] = "U0ZED"
    lines = problems(mutate)
    assert lines == [
        "rotations[0]: unavailability[0].user: U0ZED is not a member of rotation 'payments'",
        "rotations[0]: rules.senior_in_every_pair: rotation 'payments' has no member with seniority: senior",
    ]


def test_misc_field_messages():
    lines = problems(lambda r: r.update(shiftt={}))
    assert lines == ["rotations[0].shiftt: unknown key (check the spelling)"]
    lines = problems(lambda r: r["members"][1].update(fte=1.5))
    assert lines == ["rotations[0].members[1].fte: fte must be more than 0 and at most 1 (got 1.5)"]
    lines = problems(lambda r: r["members"][1].update(user="ben"))
    assert lines == ["rotations[0].members[1].user: 'ben' is not a Slack user id (like U0123ABCD); use the id, not the name"]
    lines = problems(lambda r: r["rules"].update(night="22:00"))
    assert "is not a time window" in lines[0]
    lines = problems(lambda r: r["members"][2].update(left="2026-01-01", joined="2027-01-01"))
    assert lines == ["rotations[0].members[2]: left (2026-01-01) must be after joined (2027-01-01)"]


def test_unquoted_yaml_clock_is_understood():
    import yaml

    data = yaml.safe_load("rotations:\n - name: web\n   shift: {length: 1d, handoff_time: 09:30}\n   members: [{user: U0AAA}, {user: U0BBB}]\n")
    assert parse_config(data).rotations[0].shift.handoff_time == "09:30"
