"""Number formatting for fairness figures: no negative zero, signs only on non-zero deviations."""

from __future__ import annotations


def rounded(value: float, digits: int) -> float:
    """round() without a negative zero (-0.0 + 0.0 is 0.0), so JSON never says -0.0 for a zero deviation."""
    return round(value, digits) + 0.0


def signed(value: float, digits: int = 2) -> str:
    """"+0.46", "-0.55", and "0.00" for anything that rounds to zero (never "-0.00" or "+0.00")."""
    value = rounded(value, digits)
    return f"{value:.{digits}f}" if value == 0 else f"{value:+.{digits}f}"
