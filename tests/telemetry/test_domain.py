"""Anomaly detection and SLO arithmetic, against values worked out by hand."""

from __future__ import annotations

import pytest

from bot.telemetry.domain.anomaly import Series, change_point, closeness, find_anomalies, robust_scale, still_holds
from bot.telemetry.domain.slo import budget_remaining, burn_rate, burn_status, error_ratio


def test_robust_scale_is_median_and_scaled_mad():
    # median 3; deviations 2,1,0,1,97 -> MAD 1 -> sigma 1.4826: the outlier 100 does not inflate the scale.
    mid, scale = robust_scale([1, 2, 3, 4, 100])
    assert mid == 3
    assert scale == pytest.approx(1.4826)


def test_change_point_finds_when_and_how_much():
    points = [(t, 1.0 + (t % 2) * 0.1) for t in range(10)] + [(t, 6.0) for t in range(10, 15)]
    f = change_point(points, baseline_until=8)
    assert f is not None
    # baseline values 1.0/1.1 -> median 1.05, MAD .05 -> sigma .07413; the first lasting departure is t=10.
    assert f.changed_at == 10
    assert f.baseline == pytest.approx(1.05)
    assert f.after == 6.0
    assert f.surprise == pytest.approx(4.95 / 0.074130)


def test_single_spike_is_not_a_change():
    points = [(t, 1.0) for t in range(10)] + [(10, 9.0)] + [(t, 1.0) for t in range(11, 15)]
    assert change_point(points, baseline_until=8) is None


def test_ranking_prefers_the_change_near_the_start():
    far = Series("q_far", {"s": "far"}, [(t, 0.0) for t in range(0, 100)] + [(t, 10.0) for t in range(100, 4000, 100)])
    near = Series("q_near", {"s": "near"}, [(t, 0.0) for t in range(0, 100)] + [(t, 10.0) for t in range(3500, 4000, 100)])
    found = find_anomalies([far, near], start=3600, baseline_until=100)
    assert [f.labels["s"] for f in found] == ["near", "far"]
    assert closeness(3600, 3600) == 1.0 and closeness(3900, 3600) == 0.5


def test_still_holds():
    assert still_holds(0.0, 5.0, 4.0) and not still_holds(0.0, 5.0, 0.5)


def test_budget_and_burn_rates_by_hand():
    # 99.9 %: budget 0.1 %. 10 bad in 10 000 over the window spends it exactly.
    assert error_ratio(9990, 10000) == pytest.approx(0.001)
    assert budget_remaining(9990, 10000, 0.999) == pytest.approx(0.0)
    assert budget_remaining(9996, 10000, 0.999) == pytest.approx(0.6)
    assert burn_rate(0.0144, 0.999) == pytest.approx(14.4)
    assert error_ratio(0, 0) == 0.0


def test_burn_status_needs_both_windows_of_a_pair():
    fast = burn_status({"1h": 0.02, "5m": 0.03}, 0.999)  # 20x and 30x > 14.4
    assert fast.status == "fast burn" and fast.rates["1h"] == pytest.approx(20.0)
    recovered = burn_status({"1h": 0.02, "5m": 0.0001}, 0.999)  # long burns, short has stopped
    assert recovered.status == "ok"
    slow = burn_status({"1h": 0.01, "5m": 0.01, "6h": 0.007, "30m": 0.008}, 0.999)  # 10x: under 14.4, over 6
    assert slow.status == "slow burn" and slow.paging


def test_after_level_is_the_run_not_the_recovery():
    points = [(t, 1.0) for t in range(10)] + [(t, 50.0) for t in range(10, 13)] + [(t, 1.0) for t in range(13, 30)]
    f = change_point(points, baseline_until=8)
    assert f is not None and f.changed_at == 10 and f.after == 50.0
