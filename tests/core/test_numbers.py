"""`small_int`: the one reader of ids and counts typed by people or carried in button values."""

import pytest

from bot.core.numbers import small_int


@pytest.mark.parametrize("text,expected", [("0", 0), ("42", 42), ("123456789", 123456789)])
def test_ascii_digits_are_read(text, expected):
    assert small_int(text) == expected


@pytest.mark.parametrize("text", ["", None, "²", "١٢", "１", "-1", "+1", "1.0", " 1", "1234567890", "x"])
def test_anything_else_is_none(text):
    assert small_int(text) is None


def test_the_length_limit_is_the_callers():
    assert small_int("12345", max_digits=4) is None
    assert small_int("1234", max_digits=4) == 1234
