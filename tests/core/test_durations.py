"""The one duration grammar and the one display format (bot.core.durations)."""

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.durations import DEFAULT_MAXIMUM, format_duration, parse_duration


@pytest.mark.parametrize("text, expected", [
    ("90s", timedelta(seconds=90)),
    ("5m", timedelta(minutes=5)),
    ("1h30m", timedelta(hours=1, minutes=30)),
    ("1h 30m", timedelta(hours=1, minutes=30)),
    (" 2d ", timedelta(days=2)),
    ("1w", timedelta(weeks=1)),
    ("2w 3d 4h 5m 6s", timedelta(weeks=2, days=3, hours=4, minutes=5, seconds=6)),
    ("300s", timedelta(minutes=5)),
])
def test_parse_accepts_the_grammar(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("value", ["", "   ", "5", "300", "5 minutes", "1.5h", "-5m", "5M", "m", "h5", "5m,", "5mm", "1h-30m", 300, 1.5, None, True])
def test_parse_rejects_junk_with_the_grammar_in_the_message(value):
    with pytest.raises(ValueError, match=r"is not a duration: use whole numbers with units w, d, h, m or s"):
        parse_duration(value)


@pytest.mark.parametrize("text", ["30m 1h", "1m1h", "5m5m", "1d 2w"])
def test_parse_names_the_order_rule(text):
    with pytest.raises(ValueError, match="is not a duration: give each unit once, largest first; use whole numbers"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["²m", "١h", "5m ٣s", "１m"])
def test_parse_rejects_digits_of_other_scripts(text):
    with pytest.raises(ValueError, match="digits 0-9"):
        parse_duration(text)


def test_zero_is_refused_unless_allowed():
    with pytest.raises(ValueError, match="not a positive duration"):
        parse_duration("0s")
    with pytest.raises(ValueError, match="not a positive duration"):
        parse_duration(timedelta(0))
    assert parse_duration("0m", allow_zero=True) == timedelta(0)
    with pytest.raises(ValueError, match="not a positive duration"):
        parse_duration(timedelta(seconds=-1), allow_zero=True)


@pytest.mark.parametrize("text", ["367d", "53w", "9" * 40 + "s", "99999999999999w"])
def test_absurd_sizes_are_refused_clearly(text):
    with pytest.raises(ValueError, match="longer than the maximum of 366d|far too long"):
        parse_duration(text)


def test_caller_maximum():
    assert parse_duration("1d", maximum=timedelta(days=1)) == timedelta(days=1)
    with pytest.raises(ValueError, match="longer than the maximum of 1d"):
        parse_duration("1d 1s", maximum=timedelta(days=1))


def test_timedelta_passes_through_the_same_checks():
    assert parse_duration(timedelta(minutes=5)) == timedelta(minutes=5)
    with pytest.raises(ValueError, match="maximum"):
        parse_duration(timedelta(days=400))


@pytest.mark.parametrize("value, shown", [
    (None, "—"),
    (0, "0s"),
    (0.4, "0s"),
    (45, "45s"),
    (250.0, "4m 10s"),
    (3900, "1h 5m"),
    (timedelta(hours=1, minutes=23), "1h 23m"),
    (timedelta(days=2, hours=4), "2d 4h"),
    (90061, "1d 1h 1m 1s"),
    (timedelta(weeks=2), "14d"),
    (59.6, "1m"),
])
def test_format_one_style(value, shown):
    assert format_duration(value) == shown


def test_format_refuses_negative_spans():
    with pytest.raises(ValueError, match="negative"):
        format_duration(timedelta(seconds=-1))


@given(st.integers(min_value=1, max_value=int(DEFAULT_MAXIMUM.total_seconds())))
def test_format_then_parse_round_trips(seconds):
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


_UNITS = ("w", "d", "h", "m", "s")


@given(st.lists(st.integers(min_value=0, max_value=7), min_size=5, max_size=5),
       st.lists(st.booleans(), min_size=5, max_size=5), st.sampled_from(["", " ", "  "]))
def test_any_grammatical_text_parses_to_its_sum_and_formats_canonically(counts, used, separator):
    terms = [(c, u) for c, u, keep in zip(counts, _UNITS, used) if keep]
    text = separator.join(f"{c}{u}" for c, u in terms)
    seconds = sum(c * {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}[u] for c, u in terms)
    if not terms or seconds == 0:
        with pytest.raises(ValueError):
            parse_duration(text)
        return
    parsed = parse_duration(text)
    assert parsed == timedelta(seconds=seconds)
    canonical = format_duration(parsed)
    assert parse_duration(canonical) == parsed
    assert format_duration(parse_duration(canonical)) == canonical


@given(st.text(max_size=12))
def test_arbitrary_text_gives_a_duration_or_a_value_error(text):
    try:
        result = parse_duration(text)
    except ValueError as exc:
        assert repr(text) in str(exc)
    else:
        assert timedelta(0) < result <= DEFAULT_MAXIMUM
