"""`clock_from_env`: one simulated time shared by separate processes through three env variables."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from multiaccount.bootstrap import bootstrap
from multiaccount.domain import AcceleratedClock, SystemClock, clock_from_env


def test_clock_from_env_when_start_anchor_and_speed_set_then_simulated_time_runs_faster():
    anchor = time.time() - 10.0  # the clock was started ten wall seconds ago
    clock = clock_from_env({"MULTIACCOUNT_CLOCK_START": "2026-12-01T21:50:00Z",
                            "MULTIACCOUNT_CLOCK_ANCHOR": str(anchor), "MULTIACCOUNT_CLOCK_SPEED": "60"})
    elapsed = clock.now() - datetime(2026, 12, 1, 21, 50, tzinfo=UTC)
    assert isinstance(clock, AcceleratedClock)
    assert timedelta(minutes=10) <= elapsed < timedelta(minutes=11)  # 10 s x 60


def test_clock_from_env_when_two_processes_share_the_anchor_then_they_agree():
    env = {"MULTIACCOUNT_CLOCK_START": "2026-12-01T06:30:00+00:00", "MULTIACCOUNT_CLOCK_ANCHOR": str(time.time())}
    a, b = clock_from_env(env), clock_from_env(dict(env))
    assert abs((a.now() - b.now()).total_seconds()) < 1.0


def test_clock_from_env_when_unset_then_system_clock_and_bad_speed_refused():
    assert isinstance(clock_from_env({}), SystemClock)
    with pytest.raises(ValueError):
        clock_from_env({"MULTIACCOUNT_CLOCK_START": "2026-12-01T06:30:00", "MULTIACCOUNT_CLOCK_SPEED": "0"})


def test_bootstrap_when_clock_env_set_then_app_uses_accelerated_clock(seed_firm, monkeypatch):
    monkeypatch.setenv("MULTIACCOUNT_CLOCK_START", "2026-12-01T06:30:00Z")
    monkeypatch.setenv("MULTIACCOUNT_CLOCK_ANCHOR", str(time.time()))
    app = bootstrap(seed_firm)
    assert app.clock.now().date().isoformat() == "2026-12-01"
