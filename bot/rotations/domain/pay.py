"""On-call pay lines for a month: hours by type (business, off-hours, weekend, holiday) times a rate per country.

Configured in the top-level `pay:` section of firewatch.yaml:

    pay:
      business_hours: "09:00-18:00"      # weekdays, in each person's own zone
      rates:                              # per hour on call; keyed by member country, `default` for the rest
        GB: {currency: GBP, business: 0, off_hours: 3, weekend: 5, holiday: 8}
        default: {currency: EUR, business: 0, off_hours: 3.5, weekend: 6, holiday: 9}

Each on-call hour has exactly one type, the first that applies: holiday (a public holiday of the person's
country), weekend (local Saturday/Sunday), business (inside `business_hours` on a weekday), else off-hours.
Hours are exact to the second and deduplicated per person across every rotation in the report: someone who is
on two rotations (or primary and secondary) at the same instant is paid for it once. Pure: no Slack, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from pydantic import Field, field_validator, model_validator

from bot.rotations.domain.burden import holiday_dates
from bot.rotations.domain.config import StrictModel, _supported_countries, parse_clock, zone
from bot.rotations.domain.models import Shift
from bot.rotations.domain.timeline import UTC, resolve_wall_time

HOUR_TYPES = ("business", "off_hours", "weekend", "holiday")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CENT = Decimal("0.01")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class PayRates(StrictModel):
    """Amount per on-call hour of each type, in `currency` (ISO 4217)."""

    currency: str
    business: float = 0.0
    off_hours: float = 0.0
    weekend: float = 0.0
    holiday: float = 0.0

    @field_validator("currency", mode="before")
    @classmethod
    def _currency(cls, value: Any) -> str:
        code = str(value).strip().upper()
        if not _CURRENCY.match(code):
            raise ValueError(f"{value!r} is not a currency code; use an ISO 4217 code like GBP, EUR, USD")
        return code

    @field_validator(*HOUR_TYPES)
    @classmethod
    def _non_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError(f"pay rates must not be negative (got {value})")
        return value

    def rate(self, hour_type: str) -> Decimal:
        return Decimal(str(getattr(self, hour_type)))


class PayConfig(StrictModel):
    """`pay:` — business hours and rates per country (`default` for anyone whose country has no entry)."""

    business_hours: str = "09:00-18:00"
    rates: dict[str, PayRates] = Field(default_factory=dict)

    @field_validator("business_hours", mode="before")
    @classmethod
    def _business_hours(cls, value: Any) -> str:
        start, sep, end = str(value).partition("-")
        if not sep:
            raise ValueError(f"{value!r} is not a time window; use \"HH:MM-HH:MM\" like \"09:00-18:00\"")
        first, second = parse_clock(start.strip(), "business start"), parse_clock(end.strip(), "business end")
        if first >= second:
            raise ValueError(f"{value!r}: business hours must start before they end on the same day")
        return f"{first:%H:%M}-{second:%H:%M}"

    @model_validator(mode="after")
    def _keys(self) -> "PayConfig":
        bad = [k for k in self.rates if k != "default" and k.upper() not in _supported_countries()]
        if bad:
            raise ValueError(f"rates: {', '.join(bad)} not a country code the holidays package knows "
                             "(use an ISO code like GB, US, or `default`)")
        self.rates = {k if k == "default" else k.upper(): v for k, v in self.rates.items()}
        return self

    @property
    def business_window(self) -> tuple[time, time]:
        start, _, end = self.business_hours.partition("-")
        return parse_clock(start), parse_clock(end)

    def rates_for(self, country: str | None) -> PayRates | None:
        return self.rates.get(country or "") or self.rates.get("default")


@dataclass
class Payee:
    """One person across the rotations of a report: where they live and which rotations they served."""

    user: str
    name: str
    timezone: str
    country: str | None = None
    subdivision: str | None = None
    rotations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PayLine:
    user: str
    name: str
    country: str | None
    currency: str
    hour_type: str
    hours: Decimal
    rate: Decimal
    amount: Decimal
    rotations: tuple[str, ...]

    def as_dict(self) -> dict:
        return {"user": self.user, "name": self.name, "country": self.country or "", "currency": self.currency,
                "hour_type": self.hour_type, "hours": str(self.hours), "rate": str(self.rate),
                "amount": str(self.amount), "rotations": ",".join(self.rotations)}


def parse_month(text: str) -> tuple[date, date]:
    """"2027-03" into [first day, first day of the next month). Raises ValueError naming the form."""
    match = _MONTH.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a month; use YYYY-MM like 2027-03")
    year, month = int(match.group(1)), int(match.group(2))
    return date(year, month, 1), (date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1))


def merged_intervals(shifts: Iterable[Shift]) -> list[tuple[datetime, datetime]]:
    """The union of the shifts' [start, end) intervals, sorted: overlapping time counts once."""
    out: list[list[datetime]] = []
    for s in sorted(shifts, key=lambda s: s.start):
        start, end = s.start.astimezone(UTC), s.end.astimezone(UTC)
        if out and start <= out[-1][1]:
            out[-1][1] = max(out[-1][1], end)
        elif end > start:
            out.append([start, end])
    return [(a, b) for a, b in out]


def _overlap(a: datetime, b: datetime, c: datetime, d: datetime) -> float:
    return max(0.0, (min(b, d) - max(a, c)).total_seconds())


def classify_seconds(payee: Payee, intervals: list[tuple[datetime, datetime]], first: date, after: date,
                     business: tuple[time, time]) -> dict[str, float]:
    """Seconds of each hour type in `intervals`, counting only local days first..after-1 (payee's zone)."""
    tz = zone(payee.timezone)
    totals = dict.fromkeys(HOUR_TYPES, 0.0)
    day = first
    while day < after:
        day_start = resolve_wall_time(datetime.combine(day, time()), tz).astimezone(UTC)
        day_end = resolve_wall_time(datetime.combine(day + timedelta(days=1), time()), tz).astimezone(UTC)
        seconds = sum(_overlap(a, b, day_start, day_end) for a, b in intervals)
        if seconds:
            holidays = holiday_dates(payee.country, payee.subdivision, day.year) if payee.country else frozenset()
            if day in holidays:
                totals["holiday"] += seconds
            elif day.weekday() >= 5:
                totals["weekend"] += seconds
            else:
                bs = resolve_wall_time(datetime.combine(day, business[0]), tz).astimezone(UTC)
                be = resolve_wall_time(datetime.combine(day, business[1]), tz).astimezone(UTC)
                inside = sum(_overlap(a, b, bs, be) for a, b in intervals)
                totals["business"] += inside
                totals["off_hours"] += seconds - inside
        day += timedelta(days=1)
    return totals


def pay_lines(config: PayConfig, payees: list[Payee], shifts_by_user: dict[str, list[Shift]],
              first: date, after: date) -> list[PayLine]:
    """Pay lines (one per person and hour type with hours > 0). Raises ValueError if someone has no rates."""
    missing = [p for p in payees if shifts_by_user.get(p.user) and config.rates_for(p.country) is None]
    if missing:
        who = ", ".join(f"{p.name} ({p.country or 'no country'})" for p in missing)
        raise ValueError(f"no pay rates for {who}: add pay.rates.<COUNTRY> or pay.rates.default")
    lines = []
    for payee in sorted(payees, key=lambda p: p.user):
        intervals = merged_intervals(shifts_by_user.get(payee.user, ()))
        if not intervals:
            continue
        rates = config.rates_for(payee.country)
        seconds = classify_seconds(payee, intervals, first, after, config.business_window)
        for hour_type in HOUR_TYPES:
            if not seconds[hour_type]:
                continue
            hours = Decimal(str(seconds[hour_type])) / 3600
            rate = rates.rate(hour_type)
            lines.append(PayLine(
                user=payee.user, name=payee.name, country=payee.country, currency=rates.currency,
                hour_type=hour_type, hours=hours.quantize(_CENT, ROUND_HALF_UP), rate=rate,
                amount=(hours * rate).quantize(_CENT, ROUND_HALF_UP), rotations=tuple(payee.rotations),
            ))
    return lines


def totals_by_currency(lines: list[PayLine]) -> dict[str, str]:
    totals: dict[str, Decimal] = {}
    for line in lines:
        totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.amount
    return {currency: str(amount) for currency, amount in sorted(totals.items())}
