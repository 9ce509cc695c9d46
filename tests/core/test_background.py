"""The one background-thread runner (bot.core.background): named, failures logged, joined on stop."""

import logging
import queue
import threading

import pytest

from bot.core.background import BackgroundThreads


def test_runs_the_target_on_a_named_thread():
    threads = BackgroundThreads()
    seen = {}
    done = threading.Event()

    def work(a, b):
        seen["name"] = threading.current_thread().name
        seen["sum"] = a + b
        done.set()

    thread = threads.start("assist-triage-7", work, 2, 3)
    assert done.wait(5)
    thread.join(5)
    assert seen == {"name": "assist-triage-7", "sum": 5}
    assert thread.daemon


def test_a_failure_is_logged_and_ends_only_its_thread(caplog):
    threads = BackgroundThreads()
    with caplog.at_level(logging.ERROR, logger="bot.core.background"):
        threads.start("boom", lambda: 1 / 0, failure="auto-draft of incident 3 failed 100%").join(5)
    ok = threads.start("fine", lambda: None)
    ok.join(5)
    assert not ok.is_alive()
    records = [r for r in caplog.records if r.name == "bot.core.background"]
    assert [r.getMessage() for r in records] == ["auto-draft of incident 3 failed 100%"]
    assert records[0].exc_info[0] is ZeroDivisionError


def test_stop_wakes_workers_and_joins_them():
    threads = BackgroundThreads()
    q: queue.Queue = queue.Queue()
    handled = []

    def worker():
        while (item := q.get()) is not None:
            handled.append(item)

    def poller(ticks):
        while not threads.stopping.wait(30):
            ticks.append(1)

    ticks: list = []
    threads.start("mirror", worker, wake=lambda: q.put(None))
    threads.start("leader", poller, ticks)
    q.put("trigger")
    q.put("resolve")
    assert sorted(threads.running()) == ["leader", "mirror"]
    assert threads.stop(timeout=10) == []
    # Queued work is drained before the sentinel; the poller left at once rather than after its 30 s interval.
    assert handled == ["trigger", "resolve"]
    assert ticks == []
    assert threads.running() == []
    assert threads.stop() == []  # twice is fine


def test_stop_reports_a_stuck_thread_and_refuses_new_work():
    threads = BackgroundThreads()
    release = threading.Event()
    threads.start("stuck", release.wait)
    try:
        assert threads.stop(timeout=0.05) == ["stuck"]
        with pytest.raises(RuntimeError, match="cannot start 'late': the app is stopping"):
            threads.start("late", lambda: None)
    finally:
        release.set()


def test_finished_threads_are_not_kept():
    threads = BackgroundThreads()
    for i in range(5):
        threads.start(f"job-{i}", lambda: None).join(5)
    threads.start("last", lambda: None).join(5)
    assert len(threads._threads) == 1
