"""Fairness report numbers: no "-0.0" for a zero deviation, and the footer says what the table shows."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone

from bot.rotations import messages
from bot.rotations.domain import fairness_report, plan_window
from bot.rotations.domain.numbers import rounded, signed
from bot.rotations.domain.report import FairnessReport, MemberFairness
from tests.rotations.factory import rotation


def _member(user: str, burden: float, share: float) -> MemberFairness:
    return MemberFairness(user, user[2:].title(), 1.0, burden, share, 3, 0, 72.0, 9.0, 0.0, 0.0)


# Float sums leave a zero deviation a hair below zero: that used to print as "-0.00", "-0.0" in JSON.
ZERO = FairnessReport("payments", [_member("U0ANA", 3.0, 3.0000000001), _member("U0BEN", 3.0, 3.0),
                                   _member("U0CAT", 2.9999999999, 3.0)], max_dev=1e-10, heaviest_shift=1.3)


def test_signed_and_rounded_have_no_negative_zero():
    assert [signed(v) for v in (-1e-9, 0.0, -0.004, 0.46, -0.55)] == ["0.00", "0.00", "0.00", "+0.46", "-0.55"]
    assert signed(-0.04, 1) == "0.0" and str(rounded(-1e-9, 4)) == "0.0"


def test_a_zero_deviation_never_reads_minus_zero_anywhere():
    outputs = [ZERO.render(), json.dumps(ZERO.as_dict()), messages.fairness_table(ZERO), messages.fairness_line(ZERO),
               json.dumps(messages.fairness_blocks(ZERO, datetime(2027, 3, 1), datetime(2027, 3, 8,
                                                                                         tzinfo=timezone.utc)))]
    for text in outputs:
        assert "-0.0" not in text and "+0.0" not in text, text
    assert "max deviation: 0.00 (Ana, at share; 0.00 of the heaviest shift)" in ZERO.render()


def test_the_footer_names_the_row_of_the_table_it_talks_about():
    report = fairness_report(plan_window(rotation(5), date(2027, 1, 4), date(2027, 2, 1)))
    text = report.render()
    rows = {line.split()[1]: line.split()[5] for line in text.splitlines()[1:-1]}  # name -> dev column
    footer = re.search(r"max deviation: ([\d.]+) \((\w+), (above|below|at) share", text.splitlines()[-1])
    size, name, where = footer.groups()
    assert rows[name].lstrip("+-") == size
    assert max(float(v.lstrip("+-")) for v in rows.values()) == float(size)
    assert where == {"+": "above", "-": "below"}.get(rows[name][0], "at")
    line = messages.fairness_line(report)
    short = re.search(r"Max deviation: ([\d.]+) \((\w+),", line).groups()
    table = {ln.split()[0]: ln.split()[3] for ln in messages.fairness_table(report).splitlines()[1:]}
    assert short[0] == table[short[1]].lstrip("+-")
